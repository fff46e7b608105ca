package keycardtest_test

import (
	"testing"

	"github.com/keycard-go/keycard/keycardtest"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// Two Managers over one memory store stand in for two instances sharing a
// server; the database-backed stores run the same checks against their
// real servers.
func TestRunSharedOverOneMemoryStore(t *testing.T) {
	shared := memory.New(memory.Config{})
	keycardtest.RunShared(t, func(testing.TB) store.Store { return shared })
}
