package sqlite

import (
	"database/sql"
	"testing"

	_ "modernc.org/sqlite"
)

func TestScratch(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+t.TempDir()+"/x.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("PRAGMA compile_options")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		t.Log(s)
	}
	var v, jm string
	db.QueryRow("select sqlite_version()").Scan(&v)
	db.QueryRow("pragma journal_mode").Scan(&jm)
	t.Log(v, jm)
}
