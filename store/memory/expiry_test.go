package memory_test

import (
	"errors"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/storetest"
)

// fill saves n records that expire at expires, under keys from first on.
func fill(t *testing.T, s *memory.Store, first, n int, expires time.Time) {
	t.Helper()
	for i := first; i < first+n; i++ {
		if err := s.Save(t.Context(), testKey(i), liveRecord("", expires)); err != nil {
			t.Fatalf("Save: got error %v, want nil", err)
		}
	}
}

func TestWritesReclaimExpiredRecords(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := memory.New(memory.Config{Shards: 1, Now: clock.Now})
	ctx, now := t.Context(), clock.Now()
	fill(t, s, 0, 100, now.Add(time.Minute))
	fill(t, s, 100, 1, now.Add(time.Hour))
	clock.Advance(2 * time.Minute)

	live := testKey(100)
	writes := []func() error{
		func() error { return s.Touch(ctx, live, now, now.Add(time.Hour)) },
		func() error { return s.Delete(ctx, testKey(1000)) },
		func() error {
			err := s.Save(ctx, live, liveRecord("", now.Add(time.Hour)))
			if errors.Is(err, store.ErrConflict) {
				return nil // a conflicting save is a write all the same
			}
			return err
		},
	}
	for i := range 25 {
		if err := writes[i%len(writes)](); err != nil {
			t.Fatalf("write %d: got error %v, want nil", i, err)
		}
		if got, want := s.Len(), 101-4*(i+1); got != want {
			t.Fatalf("after write %d: got Len %d, want %d", i, got, want)
		}
	}
	if _, err := s.Load(ctx, live); err != nil {
		t.Errorf("live record: got Load error %v, want nil", err)
	}
}

func TestLoadDropsTheExpiredRecordItFinds(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := memory.New(memory.Config{Now: clock.Now})
	fill(t, s, 0, 3, clock.Now().Add(time.Minute))
	clock.Advance(time.Minute)
	if _, err := s.Load(t.Context(), testKey(0)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Load: got error %v, want %v", err, store.ErrNotFound)
	}
	if got, want := s.Len(), 2; got != want {
		t.Errorf("got Len %d, want %d", got, want)
	}
}

func TestSweepReclaimsEveryExpiredRecord(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := memory.New(memory.Config{Now: clock.Now})
	ctx, now := t.Context(), clock.Now()
	fill(t, s, 0, 100, now.Add(time.Minute))
	fill(t, s, 100, 10, now.Add(time.Hour))
	clock.Advance(time.Minute)

	if n, err := s.Sweep(ctx); err != nil || n != 100 {
		t.Errorf("Sweep: got %d, %v, want 100, nil", n, err)
	}
	if got, want := s.Len(), 10; got != want {
		t.Errorf("got Len %d, want %d", got, want)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("second Sweep: got %d, %v, want 0, nil", n, err)
	}
}

func TestSaveOfAnExpiredRecordKeepsNothing(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := memory.New(memory.Config{Now: clock.Now})
	ctx, now := t.Context(), clock.Now()
	if err := s.Save(ctx, testKey(0), liveRecord("A", now)); err != nil {
		t.Fatalf("create: got error %v, want nil", err)
	}
	fill(t, s, 1, 1, now.Add(time.Hour))
	rec := liveRecord("A", now.Add(-time.Second))
	rec.Version = 1
	if err := s.Save(ctx, testKey(1), rec); err != nil {
		t.Fatalf("update: got error %v, want nil", err)
	}
	if got := s.Len(); got != 0 {
		t.Errorf("got Len %d, want 0", got)
	}
}
