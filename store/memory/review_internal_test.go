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
