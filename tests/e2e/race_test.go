//go:build race

package e2e

// raceEnabled: the tests run with the race detector, so the demo is built
// with it too, and a race it reports fails the test.
const raceEnabled = true
