//go:build !race

package catchup

const raceEnabled = false
