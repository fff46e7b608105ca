package memory

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/storetest"
)

// TestReviewSaveInProgressAtCloseEnds closes a full store while a Save that
// must make room is in progress: the Save must end, not look for room
// forever in a store that Close emptied.
func TestReviewSaveInProgressAtCloseEnds(t *testing.T) {
	t.Parallel()
	for _, user := range []string{"A", ""} {
		clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		var s *Store
		var closing atomic.Bool
		now := func() time.Time {
			if closing.Load() {
				s.Close() // as if another goroutine closed the store right now
			}
			return clock.Now()
		}
		s = New(Config{MaxSessions: 1, Now: now, Logger: discard})
		if err := s.Save(t.Context(), "held", recFor(user, clock.Now(), time.Hour)); err != nil {
			t.Fatal(err)
		}
		closing.Store(true)
		done := make(chan error, 1)
		go func() { done <- s.Save(t.Context(), "new", recFor(user, clock.Now(), time.Hour)) }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("user %q: Save in progress at Close: got %v, want %v", user, err, ErrClosed)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("user %q: Save in progress at Close still running after 20 s", user)
		}
	}
}

// TestReviewSaveBatchInProgressAtCloseEnds is the same for SaveBatch.
func TestReviewSaveBatchInProgressAtCloseEnds(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var s *Store
	var closing atomic.Bool
	now := func() time.Time {
		if closing.Load() {
			s.Close()
		}
		return clock.Now()
	}
	s = New(Config{MaxSessions: 1, Now: now, Logger: discard})
	if err := s.Save(t.Context(), "held", recFor("A", clock.Now(), time.Hour)); err != nil {
		t.Fatal(err)
	}
	closing.Store(true)
	done := make(chan error, 1)
	go func() {
		done <- s.SaveBatch(t.Context(), []store.Entry{{Key: "new", Record: recFor("A", clock.Now(), time.Hour)}})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("SaveBatch in progress at Close: got %v, want %v", err, ErrClosed)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("SaveBatch in progress at Close still running after 20 s")
	}
}

// TestReviewEmptiedShardReturnsItsQueues fills one shard with a burst of
// sessions and deletes them: the queues' arrays, four bytes a session, go
// back to the runtime with the slots and the arena.
func TestReviewEmptiedShardReturnsItsQueues(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := New(Config{Shards: 1, Now: clock.Now, Logger: discard})
	sh := &s.shards[0]
	const n = 20_000
	users := []string{"", "A"}
	for i := range n {
		if err := s.Save(ctx, fmt.Sprint("key-", i), recFor(users[i%2], clock.Now(), time.Duration(i+1)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if err := s.Delete(ctx, fmt.Sprint("key-", i)); err != nil {
			t.Fatal(err)
		}
	}
	checkInvariants(t, s)
	if cap(sh.slots) > 256 || sh.bytes.total > 2*maxPage || cap(sh.queue) > 256 || cap(sh.anon) > 256 {
		t.Errorf("emptied shard keeps %d slots, %d arena bytes, queues of %d and %d, want at most 256, %d, 256, 256",
			cap(sh.slots), sh.bytes.total, cap(sh.queue), cap(sh.anon), 2*maxPage)
	}
}

// TestUserIndexReturnsMemoryAfterBurst: once a burst of signed-in sessions
// has expired, a Sweep leaves the index of users' sessions the size of
// what is left, and what is left is still listed and deleted by user.
func TestUserIndexReturnsMemoryAfterBurst(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := New(Config{Now: clock.Now, Shards: 8, Logger: discard})
	const burst, every = 20_000, 666 // every 666th session outlives the burst
	kept := 0
	for i := range burst {
		life := time.Minute
		if i%every == 0 {
			life = time.Hour
			kept++
		}
		if err := s.Save(ctx, fmt.Sprintf("%064x", i), recFor(fmt.Sprintf("user-%d", i%100), clock.Now(), life)); err != nil {
			t.Fatal(err)
		}
	}
	peak := cap(s.users.entries)
	clock.Advance(2 * time.Minute)
	n, err := s.Sweep(ctx)
	if err != nil || n != burst-kept {
		t.Fatalf("Sweep: got %d, %v; want %d, nil", n, err, burst-kept)
	}
	checkInvariants(t, s)
	if got := cap(s.users.entries); got > 2*kept {
		t.Errorf("after the burst: the user index holds room for %d entries (%d at its peak), want at most %d", got, peak, 2*kept)
	}
	if got := len(s.users.heads); got > kept {
		t.Errorf("after the burst: %d users' chains, want at most %d", got, kept)
	}
	// user-0 kept the sessions i that are multiples of both 666 and 100.
	want := 0
	for i := 0; i < burst; i += every {
		if i%100 == 0 {
			want++
		}
	}
	list, err := s.ListUser(ctx, "user-0")
	if err != nil || len(list) != want {
		t.Fatalf("ListUser after the burst: got %d sessions, %v; want %d", len(list), err, want)
	}
	if deleted, err := s.DeleteUser(ctx, "user-0"); err != nil || deleted != want {
		t.Fatalf("DeleteUser after the burst: got %d, %v; want %d", deleted, err, want)
	}
	checkInvariants(t, s)
	// A new session of a user with sessions left joins their chain.
	if err := s.Save(ctx, "new", recFor("user-6", clock.Now(), time.Hour)); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	if list, _ := s.ListUser(ctx, "user-6"); len(list) < 1 {
		t.Errorf("ListUser(user-6) after the burst: got %d sessions, want the new one at least", len(list))
	}
}

// TestUserIndexCompactsUnderLoad renumbers the user index again and again
// (bursts that expire, Sweeps, DeleteUsers) while other goroutines save,
// load, list and delete: every listing stays right and the store stays
// consistent. Run it with -race.
func TestUserIndexCompactsUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := New(Config{Now: clock.Now, Shards: 4, Logger: discard})
	// Each worker keeps one long-lived session of its own user, which
	// every listing must show, among bursts of short-lived ones.
	const workers = 4
	for w := range workers {
		if err := s.Save(ctx, fmt.Sprintf("keep-%d", w), recFor(fmt.Sprintf("keeper-%d", w), clock.Now(), 24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	errs := make(chan error, workers+1)
	var saved atomic.Int64
	for w := range workers {
		go func() {
			for round := 0; ; round++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				for i := range 600 {
					key := fmt.Sprintf("w%d-r%d-%d", w, round, i)
					if err := s.Save(ctx, key, recFor(fmt.Sprintf("u%d", i%7), clock.Now(), time.Minute)); err != nil && !errors.Is(err, store.ErrConflict) {
						errs <- err
						return
					}
					saved.Add(1)
				}
				list, err := s.ListUser(ctx, fmt.Sprintf("keeper-%d", w))
				if err != nil || len(list) != 1 || list[0].Key != fmt.Sprintf("keep-%d", w) {
					errs <- fmt.Errorf("worker %d: ListUser of its keeper: got %d entries, %v", w, len(list), err)
					return
				}
				if _, err := s.DeleteUser(ctx, fmt.Sprintf("u%d", round%7)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	compactions := 0
	for range 40 {
		// Let the workers index a few thousand sessions, so that the
		// Sweep that expires them finds the index sparse.
		for target := saved.Load() + 2000; saved.Load() < target; {
			select {
			case err := <-errs:
				t.Fatal(err)
			default:
				time.Sleep(time.Millisecond)
			}
		}
		clock.Advance(2 * time.Minute)
		before := s.userEntries()
		if _, err := s.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if s.userEntries() < before/2 {
			compactions++
		}
	}
	close(done)
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	checkInvariants(t, s)
	if compactions == 0 {
		t.Error("no Sweep renumbered the user index: the test did not test it")
	}
}

// userEntries returns the length of the user index's entries slice.
func (s *Store) userEntries() int {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	return len(s.users.entries)
}
