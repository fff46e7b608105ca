package mysql_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store/mysql"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	db := sharedDB(t)
	s := newStore(t, db, mysql.Config{}) // migrated once
	ctx, key := t.Context(), testKey(1)
	if err := s.Save(ctx, key, liveRecord("A", time.Now().Add(time.Hour))); err != nil {
		t.Fatalf("Save: got error %v, want nil", err)
	}
	for i := range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again (%d): got error %v, want nil", i+1, err)
		}
	}
	if _, err := s.Load(ctx, key); err != nil {
		t.Errorf("Load after migrating again: got error %v, want the record kept", err)
	}
	if got, want := indexes(t, db, s.Table()), []string{"PRIMARY session_key", "live_until live_until", "user_id user_id"}; !slices.Equal(got, want) {
		t.Errorf("got indexes %q, want %q", got, want)
	}
}

// indexes lists the indexes of table as "name column", sorted.
func indexes(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "+
		"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '"+table+"'")
	if err != nil {
		t.Fatalf("listing indexes: %v", err)
	}
	defer rows.Close()
	var list []string
	for rows.Next() {
		var name, column string
		if err := rows.Scan(&name, &column); err != nil {
			t.Fatalf("listing indexes: %v", err)
		}
		list = append(list, name+" "+column)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("listing indexes: %v", err)
	}
	slices.Sort(list)
	return list
}

func TestSchemaCreatesAWorkingTable(t *testing.T) {
	t.Parallel()
	db := sharedDB(t)
	table := newTable(t, db)
	ddl, err := mysql.Schema(table)
	if err != nil {
		t.Fatalf("Schema: %v", err)
	}
	for range 2 {
		if _, err := db.ExecContext(t.Context(), ddl); err != nil {
			t.Fatalf("running Schema's statement: %v", err)
		}
	}
	s, err := mysql.New(db, mysql.Config{Table: table})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Save(t.Context(), testKey(1), liveRecord("A", time.Now().Add(time.Hour))); err != nil {
		t.Errorf("Save: got error %v, want nil", err)
	}
	def, err := mysql.Schema("")
	if err != nil || !strings.HasPrefix(def, "CREATE TABLE IF NOT EXISTS `keycard_sessions` (") {
		t.Errorf("Schema(\"\"): got %q, %v, want the default table's statement", def, err)
	}
}

func TestNewRejectsAnInvalidConfig(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("mysql", "root@tcp(127.0.0.1:1)/test") // never used
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range []string{
		"sessions-v2", "1sessions", "test.sessions", "ses`sions", "séances", "a b",
		"sessions; DROP TABLE users", strings.Repeat("s", 65),
	} {
		if _, err := mysql.New(db, mysql.Config{Table: table}); err == nil {
			t.Errorf("New with Table %q: got a nil error, want one", table)
		}
		if _, err := mysql.Schema(table); err == nil {
			t.Errorf("Schema(%q): got a nil error, want one", table)
		}
	}
	for _, table := range []string{"", "sessions", "_s", "Keycard_Sessions_2", strings.Repeat("s", 64)} {
		if _, err := mysql.New(db, mysql.Config{Table: table}); err != nil {
			t.Errorf("New with Table %q: got error %v, want nil", table, err)
		}
	}
	if _, err := mysql.New(db, mysql.Config{SweepBatch: -1}); err == nil {
		t.Error("New with a negative SweepBatch: got a nil error, want one")
	}
	if _, err := mysql.New(nil, mysql.Config{}); err == nil {
		t.Error("New with a nil *sql.DB: got a nil error, want one")
	}
}
