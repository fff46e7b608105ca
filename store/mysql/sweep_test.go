package mysql_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/mysql"
	"github.com/keycard-go/keycard/store/storetest"
)

// testKey returns the i-th of a series of distinct keys shaped like the
// Manager's.
func testKey(i int) string {
	return fmt.Sprintf("%064x", i)
}

// liveRecord returns a record of user that expires at expires.
func liveRecord(user string, expires time.Time) *store.Record {
	return &store.Record{UserID: user, Expires: expires, Deadline: expires.Add(time.Hour), Data: []byte("data")}
}

// fill creates n records that expire at expires, under keys from first on.
func fill(t *testing.T, s store.Store, first, n int, expires time.Time) {
	t.Helper()
	for i := first; i < first+n; i++ {
		if err := s.Save(t.Context(), testKey(i), liveRecord("", expires)); err != nil {
			t.Fatalf("Save: got error %v, want nil", err)
		}
	}
}

// countRows returns how many rows the store's table holds, expired or not.
func countRows(t *testing.T, s *mysql.Store, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM `"+s.Table()+"`").Scan(&n); err != nil {
		t.Fatalf("counting rows: %v", err)
	}
	return n
}

func TestSweepDeletesInBoundedBatches(t *testing.T) {
	t.Parallel()
	const batch, live = 7, 5
	for _, tc := range []struct {
		expired, statements int
	}{
		{0, 1},  // one statement finds nothing
		{6, 1},  // less than a batch
		{7, 2},  // a full batch, then one that finds nothing
		{49, 8}, // seven full batches and an empty one
		{50, 8}, // seven full batches and one of a single record
	} {
		t.Run(fmt.Sprintf("%d expired records in batches of %d", tc.expired, batch), func(t *testing.T) {
			t.Parallel()
			db := openDB(t, nil)
			db.SetMaxOpenConns(1)
			clock := storetest.NewClock(time.Now())
			s := newStore(t, db, mysql.Config{Now: clock.Now, SweepBatch: batch})
			now := clock.Now()
			fill(t, s, 0, tc.expired, now.Add(time.Minute))
			fill(t, s, tc.expired, live, now.Add(time.Hour))
			clock.Advance(2 * time.Minute)

			before := sessionStatus(t, db)
			n, err := s.Sweep(t.Context())
			if err != nil || n != tc.expired {
				t.Fatalf("Sweep: got %d, %v, want %d, nil", n, err, tc.expired)
			}
			d := diff(before, sessionStatus(t, db))
			if d["Com_delete"] != int64(tc.statements) || d["Questions"] != int64(tc.statements) {
				t.Errorf("Sweep sent %d statements, %d of them DELETEs; want %d DELETEs", d["Questions"], d["Com_delete"], tc.statements)
			}
			if got := countRows(t, s, db); got != live {
				t.Errorf("after Sweep: got %d rows, want the %d live ones", got, live)
			}
		})
	}
}

func TestSweepStopsWhenTheContextIsDone(t *testing.T) {
	t.Parallel()
	db := sharedDB(t)
	clock := storetest.NewClock(time.Now())
	s := newStore(t, db, mysql.Config{Now: clock.Now, SweepBatch: 2})
	fill(t, s, 0, 5, clock.Now().Add(time.Minute))
	clock.Advance(2 * time.Minute)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n, err := s.Sweep(ctx)
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Sweep with a cancelled context: got %d, %v, want 0 and an error wrapping %v", n, err, context.Canceled)
	}
	if got := countRows(t, s, db); got != 5 {
		t.Errorf("after the cancelled Sweep: got %d rows, want 5", got)
	}
}
