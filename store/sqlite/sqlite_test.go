package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
	"github.com/keycard-go/keycard/store/storetest"
)

// openStore opens a store on a new database file in a directory that the
// test removes when it ends, and closes the store before that.
func openStore(tb testing.TB, cfg sqlite.Config) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "sessions.db"), cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// fileHarness makes each store with Open, on its own new file.
var fileHarness = storetest.Harness{
	New: func(tb testing.TB, now func() time.Time) store.Store {
		return openStore(tb, sqlite.Config{Now: now})
	},
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, fileHarness)
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, fileHarness)
}
