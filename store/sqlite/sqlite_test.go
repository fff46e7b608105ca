package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
	"github.com/keycard-go/keycard/store/storetest"
)

// dirEnv names a directory in which the tests create their databases, to
// run them on a particular file system; by default each test uses a new
// directory under the system's temporary directory.
const dirEnv = "KEYCARD_SQLITE_TEST_DIR"

// testDir returns a new, empty directory for one test's database files,
// which is removed when the test ends: under $KEYCARD_SQLITE_TEST_DIR if
// it is set, else from tb.TempDir.
func testDir(tb testing.TB) string {
	tb.Helper()
	parent := os.Getenv(dirEnv)
	if parent == "" {
		return tb.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "keycard-sqlite-test-")
	if err != nil {
		storetest.Unavailable(tb, "the directory $"+dirEnv+" ("+parent+")", err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// openStore opens a store on a new database file in a directory that the
// test removes when it ends, and closes the store before that.
func openStore(tb testing.TB, cfg sqlite.Config) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(testDir(tb), "sessions.db"), cfg)
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

// BenchmarkStoreFullSync is BenchmarkStore with Config.FullSync, which
// waits for an fsync on every write.
func BenchmarkStoreFullSync(b *testing.B) {
	storetest.Bench(b, storetest.Harness{
		New: func(tb testing.TB, now func() time.Time) store.Store {
			return openStore(tb, sqlite.Config{Now: now, FullSync: true})
		},
	})
}
