package sqlite_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
)

// BenchmarkBytesPerSession reports the size of the database file per
// session, in B/session, for 100,000 sessions with 200 bytes of data each,
// a user ID, an IP and a typical browser user agent, after a checkpoint has
// moved the write-ahead log into the file. It also logs how the pages split
// between the table and its indexes. Run it with -benchtime=1x.
func BenchmarkBytesPerSession(b *testing.B) {
	const sessions = 100_000
	for range b.N {
		path := filepath.Join(testDir(b), "size.db")
		s, err := sqlite.Open(path, sqlite.Config{})
		if err != nil {
			b.Fatalf("Open: %v", err)
		}
		fillRealistic(b, s, sessions)
		s.Close()

		db, err := sql.Open("sqlite", sqlite.DSN(path, sqlite.Config{}))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			b.Fatalf("checkpoint: %v", err)
		}
		b.Logf("pages per table and index: %s", pagesByObject(b, db))
		db.Close()
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size())/sessions, "B/session")
	}
}

// fillRealistic saves n realistic sessions in s.
func fillRealistic(tb testing.TB, s *sqlite.Store, n int) {
	const agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	ctx, now := tb.Context(), time.Now()
	for i := range n {
		rec := &store.Record{
			UserID:    fmt.Sprintf("user-%d", i),
			Created:   now,
			LastSeen:  now,
			AuthTime:  now,
			Expires:   now.Add(30 * time.Minute),
			Deadline:  now.Add(24 * time.Hour),
			IP:        fmt.Sprintf("198.51.%d.%d", i/256%256, i%256),
			UserAgent: agent,
			Data:      make([]byte, 200),
		}
		if err := s.Save(ctx, randomKey(i), rec); err != nil {
			tb.Fatalf("Save: %v", err)
		}
	}
}

// pagesByObject lists how many pages each table and index of db takes, from
// the dbstat virtual table.
func pagesByObject(tb testing.TB, db *sql.DB) string {
	rows, err := db.Query("SELECT name, count(*) FROM dbstat GROUP BY name ORDER BY 2 DESC")
	if err != nil {
		tb.Fatalf("dbstat: %v", err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var name string
		var pages int
		if err := rows.Scan(&name, &pages); err != nil {
			tb.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, pages))
	}
	return strings.Join(parts, ", ")
}

// randomKey returns the i-th of a series of distinct keys that look
// random, as the Manager's do: the hex SHA-256 digest of i.
func randomKey(i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d", i))
	return hex.EncodeToString(sum[:])
}
