package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store/sqlite"
)

func TestDSNSetsThePragmasOnEveryConnection(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg         sqlite.Config
		synchronous int // 1 NORMAL, 2 FULL
		busyMillis  int
	}{
		{sqlite.Config{}, 1, 5000},
		{sqlite.Config{FullSync: true, BusyTimeout: 250 * time.Microsecond}, 2, 1},
		{sqlite.Config{BusyTimeout: 2 * time.Second}, 1, 2000},
	} {
		db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(testDir(t), "p.db"), c.cfg))
		if err != nil {
			t.Fatal(err)
		}
		// Hold three connections at once, so each is a new one.
		var conns []*sql.Conn
		for i := range 3 {
			conn, err := db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, conn)
			var mode string
			var sync, busy int
			for q, dest := range map[string]any{"journal_mode": &mode, "synchronous": &sync, "busy_timeout": &busy} {
				if err := conn.QueryRowContext(t.Context(), "PRAGMA "+q).Scan(dest); err != nil {
					t.Fatal(err)
				}
			}
			if mode != "wal" || sync != c.synchronous || busy != c.busyMillis {
				t.Errorf("%+v, connection %d: got journal_mode %s, synchronous %d, busy_timeout %d; want wal, %d, %d",
					c.cfg, i, mode, sync, busy, c.synchronous, c.busyMillis)
			}
		}
		for _, conn := range conns {
			conn.Close()
		}
		db.Close()
	}
}
