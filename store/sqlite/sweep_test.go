package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
	"github.com/keycard-go/keycard/store/storetest"
)

// countingStore returns a store on a new file behind a counting driver,
// with cfg, its migration run.
func countingStore(t *testing.T, cfg sqlite.Config) (*sqlite.Store, *counts) {
	t.Helper()
	db, c := openCounting(t, sqlite.DSN(filepath.Join(testDir(t), "sessions.db"), cfg))
	s, err := sqlite.New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// saveN creates n records of user that expire at expires.
func saveN(t *testing.T, s store.Store, n int, user string, expires time.Time) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = newKey()
		rec := &store.Record{UserID: user, Expires: expires, Deadline: expires.Add(time.Hour), Data: []byte("x")}
		if err := s.Save(t.Context(), keys[i], rec); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	return keys
}

func TestSweepDeletesInBoundedBatches(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s, c := countingStore(t, sqlite.Config{Now: clock.Now, SweepBatch: 10})
	now := clock.Now()
	expired := saveN(t, s, 35, "A", now.Add(time.Minute))
	live := saveN(t, s, 7, "A", now.Add(time.Hour))
	clock.Advance(2 * time.Minute)

	n, err := s.Sweep(t.Context())
	if err != nil || n != len(expired) {
		t.Fatalf("Sweep: got %d, %v, want %d, nil", n, err, len(expired))
	}
	// 10, 10, 10 and a short batch of 5 that ends the sweep.
	if got := c.sweeps.Load(); got != 4 {
		t.Errorf("got %d DELETE statements for 35 expired records in batches of 10, want 4", got)
	}
	for _, key := range live {
		if _, err := s.Load(t.Context(), key); err != nil {
			t.Errorf("live record after Sweep: Load: %v", err)
		}
	}
	if n, err := s.Sweep(t.Context()); err != nil || n != 0 {
		t.Errorf("second Sweep: got %d, %v, want 0, nil", n, err)
	}
}

func TestSweepDeletesRecordsPastTheirDeadline(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := openStore(t, sqlite.Config{Now: clock.Now})
	now := clock.Now()
	key := newKey()
	// Expires after Deadline, as the suite allows: the deadline rules.
	rec := &store.Record{Expires: now.Add(time.Hour), Deadline: now.Add(time.Minute)}
	if err := s.Save(t.Context(), key, rec); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if n, err := s.Sweep(t.Context()); err != nil || n != 1 {
		t.Errorf("Sweep: got %d, %v, want 1, nil", n, err)
	}
}

func TestSweepStopsWhenTheContextIsDone(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := openStore(t, sqlite.Config{Now: clock.Now, SweepBatch: 2})
	saveN(t, s, 5, "", clock.Now().Add(time.Minute))
	clock.Advance(2 * time.Minute)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n, err := s.Sweep(ctx)
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("Sweep with a cancelled context: got %d, %v, want 0 and an error wrapping %v", n, err, context.Canceled)
	}
	if n, err := s.Sweep(t.Context()); err != nil || n != 5 {
		t.Errorf("Sweep: got %d, %v, want 5, nil", n, err)
	}
}
