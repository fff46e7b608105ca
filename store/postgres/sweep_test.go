package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/postgres"
	"github.com/keycard-go/keycard/store/storetest"
)

// testKey returns the i-th of a series of distinct keys shaped like the
// Manager's.
func testKey(i int) string {
	return fmt.Sprintf("%064x", i)
}

// fill saves n records of user expiring at expires, under keys from first
// on.
func fill(t *testing.T, s store.Store, first, n int, user string, expires time.Time) {
	t.Helper()
	for i := first; i < first+n; i++ {
		rec := &store.Record{UserID: user, Expires: expires, Deadline: expires.Add(time.Hour), Data: []byte("data")}
		if err := s.Save(t.Context(), testKey(i), rec); err != nil {
			t.Fatalf("Save: got error %v, want nil", err)
		}
	}
}

// rows counts the rows of the store's table, expired or not.
func rows(t *testing.T, s *postgres.Store) int {
	t.Helper()
	var n int
	if err := sharedPool(t).QueryRow(t.Context(), "SELECT count(*) FROM "+s.Table()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSweepDeletesInBoundedBatches(t *testing.T) {
	t.Parallel()
	const batch = 100
	for _, tc := range []struct {
		expired, statements int
	}{
		{expired: 350, statements: 4}, // 100, 100, 100, 50
		{expired: 300, statements: 4}, // 100, 100, 100, 0
		{expired: 0, statements: 1},
	} {
		t.Run(fmt.Sprintf("%d expired records", tc.expired), func(t *testing.T) {
			t.Parallel()
			c := &counter{}
			clock := storetest.NewClock(time.Now())
			s := newStore(t, countedPool(t, c, nil), postgres.Config{Now: clock.Now, SweepBatch: batch})
			now := clock.Now()
			fill(t, s, 0, tc.expired, "A", now.Add(time.Minute))
			fill(t, s, 10_000, 20, "A", now.Add(time.Hour))
			clock.Advance(2 * time.Minute)
			c.reset()

			n, err := s.Sweep(t.Context())
			if err != nil || n != tc.expired {
				t.Fatalf("Sweep: got %d, %v, want %d, nil", n, err, tc.expired)
			}
			if got := c.matching("SKIP LOCKED"); got != tc.statements {
				t.Errorf("got %d DELETE statements, want %d (batches of %d)", got, tc.statements, batch)
			}
			if got := rows(t, s); got != 20 {
				t.Errorf("got %d rows left, want the 20 live records", got)
			}
			list, err := s.ListUser(t.Context(), "A")
			if err != nil || len(list) != 20 {
				t.Errorf("ListUser: got %d sessions, %v, want 20, nil", len(list), err)
			}
		})
	}
}

func TestSweepDeletesRecordsPastTheirDeadline(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := newStore(t, sharedPool(t), postgres.Config{Now: clock.Now})
	now := clock.Now()
	// Expires after Deadline: only the deadline makes it expire.
	rec := &store.Record{Expires: now.Add(time.Hour), Deadline: now.Add(time.Minute)}
	if err := s.Save(t.Context(), testKey(1), rec); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if n, err := s.Sweep(t.Context()); err != nil || n != 1 {
		t.Errorf("Sweep: got %d, %v, want 1, nil", n, err)
	}
}

func TestSweepStopsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := newStore(t, sharedPool(t), postgres.Config{Now: clock.Now, SweepBatch: 10})
	fill(t, s, 0, 50, "", clock.Now().Add(time.Minute))
	clock.Advance(time.Minute)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n, err := s.Sweep(ctx)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "postgres store: sweep: ") || n != 0 {
		t.Errorf("Sweep with a cancelled context: got %d, %v, want 0 and a wrapped %v", n, err, context.Canceled)
	}
	if got := rows(t, s); got != 50 {
		t.Errorf("got %d rows, want all 50 kept", got)
	}
}

func TestConcurrentSweepsDeleteEachRecordOnce(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := newStore(t, sharedPool(t), postgres.Config{Now: clock.Now, SweepBatch: 25})
	fill(t, s, 0, 400, "", clock.Now().Add(time.Minute))
	clock.Advance(time.Minute)
	counts := make(chan int, 4)
	for range 4 {
		go func() {
			n, err := s.Sweep(t.Context())
			if err != nil {
				t.Errorf("Sweep: got error %v, want nil", err)
			}
			counts <- n
		}()
	}
	total := 0
	for range 4 {
		total += <-counts
	}
	// A sweep stops at a short batch, which rows locked by another sweep
	// can cause, so a last sweep picks up any stragglers.
	n, err := s.Sweep(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if total+n != 400 {
		t.Errorf("got %d + %d records swept, want 400 in all", total, n)
	}
}
