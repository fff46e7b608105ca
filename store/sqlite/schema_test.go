package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
	"github.com/keycard-go/keycard/store/storetest"
)

// schemaObjects returns the names of the tables and indexes in db, sorted.
func schemaObjects(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT type || ' ' || name FROM sqlite_schema ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(testDir(t), "sessions.db")
	s := openAt(t, path, sqlite.Config{})
	key := saveN(t, s, 1, "A", time.Now().Add(time.Hour))[0]
	for range 2 {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	again := openAt(t, path, sqlite.Config{}) // Open migrates too
	if _, err := again.Load(t.Context(), key); err != nil {
		t.Errorf("after migrating again: Load: %v", err)
	}
	db, err := sql.Open("sqlite", sqlite.DSN(path, sqlite.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := []string{
		"table keycard_sessions",
		"index keycard_sessions_expiry_idx",
		"index keycard_sessions_user_id_idx",
		"index sqlite_autoindex_keycard_sessions_1",
	}
	if got := schemaObjects(t, db); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("got schema %q, want %q", got, want)
	}
}

// TestSchemaIsWhatMigrateRuns compares the tables and indexes that
// Migrate makes with those that Schema's SQL makes, for the default table
// and another.
func TestSchemaIsWhatMigrateRuns(t *testing.T) {
	t.Parallel()
	dump := func(path string) string {
		db, err := sql.Open("sqlite", sqlite.DSN(path, sqlite.Config{}))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var all string
		if err := db.QueryRow("SELECT group_concat(type || ' ' || name || ': ' || coalesce(sql, ''), char(10)) FROM (SELECT * FROM sqlite_schema ORDER BY name)").Scan(&all); err != nil {
			t.Fatal(err)
		}
		return all
	}
	for _, table := range []string{"", "auth_sessions"} {
		ddl, err := sqlite.Schema(table)
		if err != nil {
			t.Fatalf("Schema(%q): %v", table, err)
		}
		byHand := filepath.Join(testDir(t), "hand.db")
		db, err := sql.Open("sqlite", sqlite.DSN(byHand, sqlite.Config{}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Exec(ddl)
		db.Close()
		if err != nil {
			t.Fatalf("applying Schema(%q): %v", table, err)
		}
		migrated := filepath.Join(testDir(t), "migrated.db")
		openAt(t, migrated, sqlite.Config{Table: table}) // Open runs Migrate
		if got, want := dump(migrated), dump(byHand); got != want {
			t.Errorf("Table %q: Migrate made\n%s\nwant what Schema makes:\n%s", table, got, want)
		}
	}
	if other, _ := sqlite.Schema("auth_sessions"); !strings.Contains(other, `"auth_sessions_expiry_idx" ON "auth_sessions"`) {
		t.Errorf("Schema(\"auth_sessions\") does not name the table:\n%s", other)
	}
	if _, err := sqlite.Schema("Sessions"); err == nil || !strings.HasPrefix(err.Error(), "sqlite store: ") {
		t.Errorf(`Schema("Sessions"): got error %v, want one starting "sqlite store: "`, err)
	}
}

// TestSchemaMakesAWorkingTable plays a team that runs its own migrations:
// it applies Schema by hand, then uses New without Migrate.
func TestSchemaMakesAWorkingTable(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(testDir(t), "own.db"), sqlite.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ddl, err := sqlite.Schema("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ddl); err != nil {
		t.Fatalf("applying Schema: %v", err)
	}
	s, err := sqlite.New(db, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := saveN(t, s, 1, "A", time.Now().Add(time.Hour))[0]
	if list, err := s.ListUser(t.Context(), "A"); err != nil || len(list) != 1 || list[0].Key != key {
		t.Errorf("ListUser: got %v, %v, want the one session", list, err)
	}
}

func TestPackageDocShowsTheSchema(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	ddl, err := sqlite.Schema("")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for line := range strings.Lines(ddl) {
		want.WriteString("//\t" + line)
	}
	if !strings.Contains(string(doc), want.String()) {
		t.Errorf("doc.go does not show Schema as a code block; want these lines in it:\n%s", want.String())
	}
}

func TestNewBeforeMigrateReportsTheMissingTable(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(testDir(t), "empty.db"), sqlite.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlite.New(db, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Load(t.Context(), newKey())
	if err == nil || !strings.HasPrefix(err.Error(), "sqlite store: load: ") || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("Load before Migrate: got error %v, want a wrapped \"no such table\"", err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(t.Context(), newKey()); err != store.ErrNotFound {
		t.Errorf("Load after Migrate: got error %v, want %v", err, store.ErrNotFound)
	}
}

// TestConformanceOfTablesSharingOneFile runs the suite on one database
// file and one *sql.DB, each store in a table of its own made by Migrate.
func TestConformanceOfTablesSharingOneFile(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(testDir(t), "shared.db"), sqlite.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(4) // as Open does on this machine
	var n atomic.Int64
	storetest.Run(t, storetest.Harness{
		New: func(tb testing.TB, now func() time.Time) store.Store {
			s, err := sqlite.New(db, sqlite.Config{Table: fmt.Sprintf("sessions_%d", n.Add(1)), Now: now})
			if err != nil {
				tb.Fatal(err)
			}
			if err := s.Migrate(tb.Context()); err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s.Close() })
			return s
		},
	})
}
