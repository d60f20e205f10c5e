//go:build race

package catchup

// raceEnabled scales the 100k-record tests down under the race detector,
// which checks concurrency, not scale, and runs them ten times slower.
const raceEnabled = true
