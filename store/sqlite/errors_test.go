package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
)

func TestOpenInAMissingDirectoryFailsWithTheStoreName(t *testing.T) {
	t.Parallel()
	_, err := sqlite.Open(filepath.Join(testDir(t), "no", "such", "dir", "sessions.db"), sqlite.Config{})
	if err == nil || !strings.HasPrefix(err.Error(), "sqlite store: open") {
		t.Errorf("got error %v, want one starting \"sqlite store: open\"", err)
	}
}

func TestOpenRefusesADatabaseWithoutWriteAheadLogging(t *testing.T) {
	t.Parallel()
	_, err := sqlite.Open(":memory:", sqlite.Config{})
	if err == nil || !strings.Contains(err.Error(), "not wal") {
		t.Errorf("Open(\":memory:\"): got error %v, want one saying the journal mode is not wal", err)
	}
}

func TestOpenAcceptsAnyFileName(t *testing.T) {
	t.Parallel()
	path := filepath.Join(testDir(t), "a dir?x=1#y", "sessions 100%.db")
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	openAt(t, path, sqlite.Config{})
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
}

func TestInvalidConfigIsRefused(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, cfg := range map[string]sqlite.Config{
		"upper-case table":     {Table: "Sessions"},
		"quoted table":         {Table: `x"; DROP TABLE y; --`},
		"table with a schema":  {Table: "main.sessions"},
		"table with a digit":   {Table: "1sessions"},
		"long table name":      {Table: strings.Repeat("s", 49)},
		"negative sweep batch": {SweepBatch: -1},
		"negative busy wait":   {BusyTimeout: -time.Second},
	} {
		if _, err := sqlite.New(db, cfg); err == nil || !strings.HasPrefix(err.Error(), "sqlite store: ") {
			t.Errorf("New with %s: got error %v, want one starting \"sqlite store: \"", name, err)
		}
		if _, err := sqlite.Open(filepath.Join(testDir(t), "x.db"), cfg); err == nil {
			t.Errorf("Open with %s: got no error, want one", name)
		}
	}
	if _, err := sqlite.New(nil, sqlite.Config{}); err == nil {
		t.Error("New(nil): got no error, want one")
	}
}

func TestErrorsNameTheStoreAndTheMethod(t *testing.T) {
	t.Parallel()
	s := openStore(t, sqlite.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Load(ctx, newKey())
	if got, want := err.Error(), "sqlite store: load: context canceled"; got != want {
		t.Errorf("got error %q, want %q", got, want)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want it to wrap %v", err, context.Canceled)
	}
}

// TestAWriteLockHeldElsewhereFailsAfterTheBusyTimeout plays another process
// that holds the database's write lock for too long: writes fail after
// Config.BusyTimeout with a wrapped SQLITE_BUSY, and reads go on, as
// write-ahead logging promises.
func TestAWriteLockHeldElsewhereFailsAfterTheBusyTimeout(t *testing.T) {
	t.Parallel()
	path := filepath.Join(testDir(t), "sessions.db")
	s := openAt(t, path, sqlite.Config{BusyTimeout: 100 * time.Millisecond})
	key := saveN(t, s, 1, "", time.Now().Add(time.Hour))[0]

	other, err := sql.Open("sqlite", sqlite.DSN(path, sqlite.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("DELETE FROM keycard_sessions WHERE key = ''"); err != nil { // takes the write lock
		t.Fatal(err)
	}

	start := time.Now()
	err = s.Delete(t.Context(), key)
	waited := time.Since(start)
	if err == nil || !strings.HasPrefix(err.Error(), "sqlite store: delete: ") || !strings.Contains(err.Error(), "SQLITE_BUSY") {
		t.Errorf("Delete while another connection holds the write lock: got error %v, want a wrapped SQLITE_BUSY", err)
	}
	if waited < 100*time.Millisecond || waited > 10*time.Second {
		t.Errorf("Delete gave up after %v, want about the busy timeout of 100ms", waited)
	}
	if _, err := s.Load(t.Context(), key); err != nil {
		t.Errorf("Load while another connection holds the write lock: %v", err)
	}
	tx.Rollback()
	if err := s.Delete(t.Context(), key); err != nil {
		t.Errorf("Delete once the lock is released: %v", err)
	}
}

func TestClosedStoreReportsErrClosed(t *testing.T) {
	t.Parallel()
	for _, opened := range []bool{true, false} {
		var s *sqlite.Store
		if opened {
			s = openStore(t, sqlite.Config{})
		} else {
			s, _ = countingStore(t, sqlite.Config{})
		}
		ctx, now := t.Context(), time.Now()
		key := saveN(t, s, 1, "A", now.Add(time.Hour))[0]
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		calls := map[string]func() error{
			"Load":       func() error { _, err := s.Load(ctx, key); return err },
			"Save":       func() error { return s.Save(ctx, newKey(), &store.Record{Expires: now.Add(time.Hour)}) },
			"Delete":     func() error { return s.Delete(ctx, key) },
			"Touch":      func() error { return s.Touch(ctx, key, now, now.Add(time.Hour)) },
			"ListUser":   func() error { _, err := s.ListUser(ctx, "A"); return err },
			"DeleteUser": func() error { _, err := s.DeleteUser(ctx, "A"); return err },
			"Sweep":      func() error { _, err := s.Sweep(ctx); return err },
			"Migrate":    func() error { return s.Migrate(ctx) },
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, sqlite.ErrClosed) || !strings.HasPrefix(err.Error(), "sqlite store: ") {
				t.Errorf("%s after Close (store made by Open: %t): got error %v, want %v wrapped with the store's name", name, opened, err, sqlite.ErrClosed)
			}
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: got error %v, want nil", err)
		}
	}
}

func TestCloseLeavesTheCallersDatabaseOpen(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(testDir(t), "own.db"), sqlite.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlite.New(db, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	saveN(t, s, 1, "", time.Now().Add(time.Hour))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM keycard_sessions").Scan(&n); err != nil || n != 1 {
		t.Errorf("the caller's *sql.DB after Close: got %d rows, %v, want 1, nil", n, err)
	}
}

// TestStoreLeavesNoGoroutines does not run in parallel: it counts every
// goroutine of the test binary.
func TestStoreLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := sqlite.Open(filepath.Join(testDir(t), "sessions.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	saveN(t, s, 20, "A", time.Now().Add(time.Hour))
	s.ListUser(t.Context(), "A")
	s.Sweep(t.Context())
	s.Close()
	after := runtime.NumGoroutine()
	// database/sql's goroutines end after Close returns: within
	// milliseconds, but a loaded machine may take far longer.
	for deadline := time.Now().Add(30 * time.Second); after > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	if after > before {
		t.Errorf("got %d goroutines after Close, want at most %d (as before Open)", after, before)
	}
}
