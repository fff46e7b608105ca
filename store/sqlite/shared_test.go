package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/keycard-go/keycard/keycardtest"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
)

// Two stores opened on one file, each with its own pool of connections,
// stand in for two processes sharing the database: SQLite's file locks
// serialize their writes exactly as between processes.
// TestTwoProcessesIncrementOneCounter checks the same with a real second
// process.
func TestTwoHandlesOnOneFileShareSessions(t *testing.T) {
	t.Parallel()
	path := filepath.Join(testDir(t), "shared.db")
	keycardtest.RunShared(t, func(tb testing.TB) store.Store {
		// A writer waits for the other handle's lock for up to
		// BusyTimeout: a guard here, as with 200 requests queued on
		// one session a loaded machine can keep a writer waiting longer
		// than the default 5 s.
		s, err := sqlite.Open(path, sqlite.Config{BusyTimeout: time.Minute})
		if err != nil {
			tb.Fatalf("Open: %v", err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	})
}
