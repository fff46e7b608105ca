package memory_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/storetest"
)

// testKey returns the i-th of a series of distinct keys shaped like the
// Manager's.
func testKey(i int) string {
	return fmt.Sprintf("%064x", i)
}

// liveRecord returns a record of user that expires at expires.
func liveRecord(user string, expires time.Time) *store.Record {
	return &store.Record{UserID: user, Expires: expires, Deadline: expires.Add(time.Hour)}
}

func TestBoundEvictsTheSoonestExpiringRecords(t *testing.T) {
	t.Parallel()
	const max = 10
	for _, shards := range []int{1, 64} {
		t.Run(fmt.Sprintf("%d shards", shards), func(t *testing.T) {
			t.Parallel()
			clock := storetest.NewClock(time.Now())
			s := memory.New(memory.Config{MaxSessions: max, MaxAnonymous: max, Shards: shards, Now: clock.Now})
			ctx, now := t.Context(), clock.Now()

			// held models the store: each insert into a full store
			// first evicts the record that expires soonest.
			held := make(map[string]time.Time)
			for i, minutes := range rand.New(rand.NewPCG(1, 2)).Perm(3 * max) {
				key, expires := testKey(i), now.Add(time.Duration(minutes+1)*time.Minute)
				if err := s.Save(ctx, key, liveRecord("", expires)); err != nil {
					t.Fatalf("Save: got error %v, want nil", err)
				}
				if len(held) == max {
					delete(held, soonest(held))
				}
				held[key] = expires
				if n := s.Len(); n > max {
					t.Fatalf("after %d inserts: got Len %d, want at most %d", i+1, n, max)
				}
			}
			for i := range 3 * max {
				_, err := s.Load(ctx, testKey(i))
				if _, kept := held[testKey(i)]; kept != (err == nil) {
					t.Errorf("key %d: got Load error %v, want kept %t", i, err, kept)
				}
			}
			if got, want := s.Evictions(), uint64(2*max); got != want {
				t.Errorf("got %d evictions, want %d", got, want)
			}
		})
	}
}

// soonest returns the key in held that expires first.
func soonest(held map[string]time.Time) string {
	keys := make([]string, 0, len(held))
	for key := range held {
		keys = append(keys, key)
	}
	return slices.MinFunc(keys, func(a, b string) int { return held[a].Compare(held[b]) })
}

func TestBoundRemovesExpiredRecordsBeforeEvicting(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := memory.New(memory.Config{MaxSessions: 10, MaxAnonymous: 10, Now: clock.Now})
	ctx, now := t.Context(), clock.Now()
	for i := range 10 {
		lifetime := time.Duration(i+1) * time.Hour
		if i%2 == 0 {
			lifetime = time.Minute
		}
		if err := s.Save(ctx, testKey(i), liveRecord("", now.Add(lifetime))); err != nil {
			t.Fatalf("Save: got error %v, want nil", err)
		}
	}
	clock.Advance(2 * time.Minute)
	for i := 10; i < 15; i++ {
		if err := s.Save(ctx, testKey(i), liveRecord("", now.Add(time.Duration(i+1)*time.Hour))); err != nil {
			t.Fatalf("Save into a full store: got error %v, want nil", err)
		}
	}
	if got := s.Evictions(); got != 0 {
		t.Errorf("after replacing the 5 expired records: got %d evictions, want 0", got)
	}
	if err := s.Save(ctx, testKey(15), liveRecord("", now.Add(16*time.Hour))); err != nil {
		t.Fatalf("Save into a full store: got error %v, want nil", err)
	}
	if got := s.Evictions(); got != 1 {
		t.Errorf("after one more record: got %d evictions, want 1", got)
	}
	// Kept: the records live at the end of the first minute but key 1,
	// which expired soonest among them, and every record saved after.
	for i := range 16 {
		_, err := s.Load(ctx, testKey(i))
		if kept := i >= 10 || i%2 == 1 && i != 1; kept != (err == nil) {
			t.Errorf("key %d: got Load error %v, want kept %t", i, err, kept)
		}
	}
}

func TestBoundLetsUpdatesThroughWhenFull(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := memory.New(memory.Config{MaxSessions: 2, MaxAnonymous: 2, Now: clock.Now})
	ctx, now := t.Context(), clock.Now()
	for i := range 2 {
		if err := s.Save(ctx, testKey(i), liveRecord("", now.Add(time.Hour))); err != nil {
			t.Fatalf("Save: got error %v, want nil", err)
		}
	}
	rec := liveRecord("A", now.Add(2*time.Hour))
	rec.Version = 1
	if err := s.Save(ctx, testKey(0), rec); err != nil {
		t.Fatalf("update in a full store: got error %v, want nil", err)
	}
	if err := s.Touch(ctx, testKey(1), now, now.Add(3*time.Hour)); err != nil {
		t.Fatalf("Touch in a full store: got error %v, want nil", err)
	}
	if got := s.Evictions(); got != 0 {
		t.Errorf("got %d evictions, want 0", got)
	}
	rec.Version = 0
	err := s.Save(ctx, testKey(0), rec)
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("create over a live record in a full store: got error %v, want %v", err, store.ErrConflict)
	}
	if got := s.Evictions(); got != 0 {
		t.Errorf("after the conflict: got %d evictions, want 0", got)
	}
}

func TestBoundHoldsUnderConcurrentCreates(t *testing.T) {
	t.Parallel()
	const max, workers, each = 50, 8, 200
	s := memory.New(memory.Config{MaxSessions: max, MaxAnonymous: max, Shards: 4})
	ctx, now := t.Context(), time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				rec := liveRecord("", now.Add(time.Duration(w*each+i+1)*time.Second))
				if err := s.Save(ctx, testKey(w*each+i), rec); err != nil {
					t.Errorf("Save: got error %v, want nil", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := s.Len(); got != max {
		t.Errorf("got Len %d, want %d", got, max)
	}
	if got, want := s.Evictions(), uint64(workers*each-max); got != want {
		t.Errorf("got %d evictions, want %d", got, want)
	}
}
