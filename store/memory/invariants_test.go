package memory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/storetest"
)

// checkInvariants reports any inconsistency between s's shards, queues,
// user index and count. Call it when no other goroutine uses s.
func checkInvariants(t *testing.T, s *Store) {
	t.Helper()
	want := make(map[string]map[string]struct{})
	total, anon := 0, 0
	for i := range s.shards {
		n, a := checkShard(t, &s.shards[i], want)
		total, anon = total+n, anon+a
	}
	if n := s.anonCount.Load(); n != int64(anon) {
		t.Errorf("got anonymous count %d, want %d (the anonymous records held)", n, anon)
	}
	if got := indexedKeys(t, s); !maps.EqualFunc(got, want, maps.Equal) {
		t.Errorf("got user index %v, want %v", got, want)
	}
	if n := s.count.Load(); n != int64(total) {
		t.Errorf("got count %d, want %d (the records held)", n, total)
	}
	if int64(total) > s.max {
		t.Errorf("got %d records, want at most %d", total, s.max)
	}
}

// indexedKeys returns the keys in the user index, by user, and reports any
// key indexed twice.
func indexedKeys(t *testing.T, s *Store) map[string]map[string]struct{} {
	t.Helper()
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	got := make(map[string]map[string]struct{})
	for user, u := range s.users.keys {
		keys := u.appendTo(nil)
		got[user] = make(map[string]struct{}, len(keys))
		for _, key := range keys {
			got[user][key] = struct{}{}
		}
		if len(keys) != len(got[user]) || len(keys) == 0 {
			t.Errorf("user %q: got keys %q, want a non-empty set", user, keys)
		}
	}
	return got
}

// checkShard reports inconsistencies within sh, adds its records to the
// user index want, and returns how many records it holds, and how many of
// them are anonymous.
func checkShard(t *testing.T, sh *shard, want map[string]map[string]struct{}) (int, int) {
	t.Helper()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.items) != len(sh.queue)+len(sh.anon) {
		t.Errorf("got %d items and %d+%d queued, want as many", len(sh.items), len(sh.queue), len(sh.anon))
	}
	for _, q := range []queue{sh.queue, sh.anon} {
		for i, it := range q {
			if it.index != i || sh.items[it.key] != it {
				t.Errorf("queue[%d]: got index %d, in map %t, want index %d, in map", i, it.index, sh.items[it.key] == it, i)
			}
			if p := (i - 1) / 2; i > 0 && q[p].due().After(it.due()) {
				t.Errorf("queue[%d] is due before its parent queue[%d]", i, p)
			}
			if it.anon != (it.rec.UserID == "") {
				t.Errorf("queue[%d]: record of user %q in the wrong queue", i, it.rec.UserID)
			}
			if user := it.rec.UserID; user != "" {
				if want[user] == nil {
					want[user] = make(map[string]struct{})
				}
				want[user][it.key] = struct{}{}
			}
		}
	}
	return len(sh.items), len(sh.anon)
}

func TestEvictionKeepsUserIndexConsistent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Now())
	s := New(Config{MaxSessions: 3, MaxAnonymous: 3, Now: clock.Now})
	now := clock.Now()
	for i, user := range []string{"A", "A", "A", "B"} {
		rec := &store.Record{UserID: user, Expires: now.Add(time.Duration(i+1) * time.Hour), Deadline: now.Add(24 * time.Hour)}
		if err := s.Save(ctx, fmt.Sprintf("key-%d", i), rec); err != nil {
			t.Fatalf("Save: got error %v, want nil", err)
		}
	}
	list, err := s.ListUser(ctx, "A")
	if err != nil || len(list) != 2 {
		t.Errorf("ListUser(A): got %d sessions, %v, want 2, nil", len(list), err)
	}
	checkInvariants(t, s)
}

func TestConcurrentChurnKeepsInvariants(t *testing.T) {
	t.Parallel()
	const workers, ops, max = 8, 1000, 64
	clock := storetest.NewClock(time.Now())
	s := New(Config{MaxSessions: max, Shards: 4, Now: clock.Now, Logger: discard})
	stop := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Go(func() { watchCount(t, s, stop) })
	var wg sync.WaitGroup
	for w := range workers {
		rng := rand.New(rand.NewPCG(uint64(w), 7))
		wg.Go(func() { churn(t, s, clock, rng, ops) })
	}
	wg.Wait()
	close(stop)
	watcher.Wait()
	checkInvariants(t, s)
	if s.Evictions() == 0 {
		t.Error("got no evictions, want the churn to fill the store")
	}
	t.Logf("evictions: %d", s.Evictions())
}

// watchCount reports the count of s exceeding its bound, until stop closes.
func watchCount(t *testing.T, s *Store, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if n := s.count.Load(); n > s.max {
			t.Errorf("got count %d, want at most %d", n, s.max)
			return
		}
	}
}

// churn makes ops random calls of every method of s on a small set of keys
// shared with other goroutines, advancing the clock now and then. Conflicts
// and absent records are expected; any other error is reported.
func churn(t *testing.T, s *Store, clock *storetest.Clock, rng *rand.Rand, ops int) {
	ctx := t.Context()
	users := []string{"", "A", "B", "C"}
	user := func() string { return users[rng.IntN(len(users))] }
	for range ops {
		key := fmt.Sprintf("key-%d", rng.IntN(200))
		now := clock.Now()
		var err error
		switch rng.IntN(20) {
		case 0:
			err = s.Delete(ctx, key)
		case 1:
			err = s.Touch(ctx, key, now, now.Add(time.Duration(rng.IntN(600))*time.Second))
		case 2:
			_, err = s.DeleteUser(ctx, user())
		case 3:
			_, err = s.Sweep(ctx)
		case 4:
			clock.Advance(time.Duration(rng.IntN(5)) * time.Second)
		case 5:
			_, err = s.ListUser(ctx, user())
		default:
			err = saveRandom(ctx, s, key, user(), now, rng)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrFull) {
			t.Errorf("got error %v, want nil, %v, %v or %v", err, store.ErrNotFound, store.ErrConflict, store.ErrFull)
		}
	}
}

// saveRandom saves a record of user under key with a random lifetime,
// creating it or updating the version it loads.
func saveRandom(ctx context.Context, s *Store, key, user string, now time.Time, rng *rand.Rand) error {
	rec := &store.Record{
		UserID:   user,
		Expires:  now.Add(time.Duration(rng.IntN(600)) * time.Second),
		Deadline: now.Add(time.Duration(rng.IntN(1200)) * time.Second),
	}
	if cur, err := s.Load(ctx, key); err == nil {
		rec.Version = cur.Version
	}
	return s.Save(ctx, key, rec)
}

func TestUserWithManySessionsKeepsIndexConsistent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := New(Config{})
	expires := time.Now().Add(time.Hour)
	const sessions = 3 * fewKeys
	for i := range sessions {
		rec := &store.Record{UserID: "A", Expires: expires, Deadline: expires}
		if err := s.Save(ctx, fmt.Sprint(i), rec); err != nil {
			t.Fatalf("Save: got error %v, want nil", err)
		}
	}
	for i := range sessions - 2 {
		if err := s.Delete(ctx, fmt.Sprint(i)); err != nil {
			t.Fatalf("Delete: got error %v, want nil", err)
		}
	}
	checkInvariants(t, s)
	if list, err := s.ListUser(ctx, "A"); err != nil || len(list) != 2 {
		t.Errorf("ListUser: got %d sessions, %v, want 2, nil", len(list), err)
	}
	if n, err := s.DeleteUser(ctx, "A"); err != nil || n != 2 {
		t.Errorf("DeleteUser: got %d, %v, want 2, nil", n, err)
	}
	checkInvariants(t, s)
}
