package storetest

import (
	"os"
	"testing"
)

// Unavailable reports that the server a store's tests need could not be
// reached. On a developer machine the test is skipped with a message that
// says how to provide the server; under CI (the environment variable CI set
// to "true") the test fails, so a missing server can never pass silently.
func Unavailable(tb testing.TB, server string, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is required under CI=true but unavailable: %v", server, err)
	}
	tb.Skipf("%s unavailable (%v); start it to run these tests (they fail instead of skipping under CI=true)", server, err)
}
