// Package poll waits, in tests, for a condition to hold: the one helper
// behind "tests wait on conditions, never on fixed sleeps".
//
// It imports only the standard library, so tests anywhere in the module
// may use it (federation/ ones included) without pulling in node/. Only
// tests import it: it links `testing`. Inside a testing/synctest bubble
// its clock and sleeps are the bubble's, so a wait there is virtual.
package poll
