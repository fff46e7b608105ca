package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
)

func TestScanReadsEveryPage(t *testing.T) {
	t.Parallel()
	s := openStore(t, sqlite.Config{})
	ctx := context.Background()
	now := time.Now()
	const n = 1234 // more than two pages
	for i := range n {
		rec := &store.Record{Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(2 * time.Hour)}
		if err := s.Save(ctx, fmt.Sprintf("%064x", i), rec); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	err := s.Scan(ctx, func(e store.Entry) error {
		if seen[e.Key] {
			t.Fatalf("key %s scanned twice", e.Key)
		}
		seen[e.Key] = true
		return s.Delete(ctx, e.Key) // writing while scanning must not deadlock
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("scanned %d records, want %d", len(seen), n)
	}
}
