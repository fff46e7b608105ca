package mysql_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/mysql"
)

// BenchmarkBytesPerSession reports the space the table takes per session on
// the server, in B/session: DATA_LENGTH + INDEX_LENGTH from
// information_schema.TABLES after ANALYZE TABLE, for 10,000 sessions with
// 200 bytes of data each, a user ID, an IP and a typical browser user
// agent, under keys shaped like the Manager's (random hex digests, so the
// primary key fills in random order, as in production). It also reports
// how fast 8 concurrent writers created them. Run it with -benchtime=1x.
func BenchmarkBytesPerSession(b *testing.B) {
	const sessions, writers = 10_000, 8
	const agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	db := openDB(b, nil)
	db.SetMaxOpenConns(writers)
	for range b.N {
		s := newStore(b, db, mysql.Config{})
		ctx, now := b.Context(), time.Now()
		start := time.Now()
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := w; i < sessions; i += writers {
					sum := sha256.Sum256(fmt.Appendf(nil, "session %d", i))
					rec := &store.Record{
						UserID:    fmt.Sprintf("user-%d", i),
						Created:   now,
						LastSeen:  now,
						AuthTime:  now,
						Expires:   now.Add(30 * time.Minute),
						Deadline:  now.Add(24 * time.Hour),
						IP:        fmt.Sprintf("198.51.%d.%d", i/256%256, i%256),
						UserAgent: strings.Clone(agent),
						Data:      make([]byte, 200),
					}
					if err := s.Save(ctx, hex.EncodeToString(sum[:]), rec); err != nil {
						b.Errorf("Save: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		took := time.Since(start)

		if _, err := db.ExecContext(ctx, "ANALYZE TABLE `"+s.Table()+"`"); err != nil {
			b.Fatalf("ANALYZE TABLE: %v", err)
		}
		var data, index, rows int64
		err := db.QueryRowContext(ctx, "SELECT DATA_LENGTH, INDEX_LENGTH, TABLE_ROWS FROM information_schema.TABLES "+
			"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '"+s.Table()+"'").Scan(&data, &index, &rows)
		if err != nil {
			b.Fatalf("reading the table's size: %v", err)
		}
		b.ReportMetric(float64(data+index)/sessions, "B/session")
		b.ReportMetric(float64(data)/sessions, "data-B/session")
		b.ReportMetric(float64(index)/sessions, "index-B/session")
		b.ReportMetric(sessions/took.Seconds(), "creates/s")
	}
}
