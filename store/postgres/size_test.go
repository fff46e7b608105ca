package postgres_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/postgres"
)

// TestBytesPerSession measures the server's disk use per session, table
// and indexes together, for sessions like the memory store's size test:
// 200 bytes of data, a 110-byte user agent, one user each. The package doc
// quotes its result.
func TestBytesPerSession(t *testing.T) {
	if testing.Short() {
		t.Skip("saves 10,000 sessions")
	}
	t.Parallel()
	const sessions, workers = 10_000, 4
	pool := sharedPool(t)
	s := newStore(t, pool, postgres.Config{})
	now := time.Now()
	base := store.Record{
		Created: now, LastSeen: now, AuthTime: now, Expires: now.Add(30 * time.Minute), Deadline: now.Add(8 * time.Hour),
		IP:        "203.0.113.7",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.",
		Data:      bytes.Repeat([]byte("0123456789"), 20),
	}
	if len(base.UserAgent) != 110 {
		t.Fatalf("user agent of %d bytes, want 110", len(base.UserAgent))
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < sessions; i += workers {
				rec := base
				rec.UserID = fmt.Sprintf("user-%06d", i)
				if err := s.Save(t.Context(), testKey(i), &rec); err != nil {
					t.Errorf("Save: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	var total, heap, indexes, toast int64
	err := pool.QueryRow(t.Context(), `SELECT pg_total_relation_size($1), pg_relation_size($1), pg_indexes_size($1),
		coalesce(pg_total_relation_size(reltoastrelid), 0) FROM pg_class WHERE oid = $1::regclass`, s.Table()).Scan(&total, &heap, &indexes, &toast)
	if err != nil {
		t.Fatal(err)
	}
	per := func(n int64) string { return fmt.Sprintf("%d", n/sessions) }
	t.Logf("%d sessions: %s bytes per session in all (table %s, indexes %s, TOAST %s)",
		sessions, per(total), per(heap), per(indexes), per(toast))
	if total/sessions > 2000 {
		t.Errorf("got %d bytes per session, want well under 2 KB", total/sessions)
	}
}
