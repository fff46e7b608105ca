package guard_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/guard"
	"github.com/keycard-go/keycard/store/storetest"
)

func TestLimitThenWaitThenReset(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	var events []keycard.Event
	var mu sync.Mutex
	m, _ := keycard.New(keycard.Config{OnEvent: func(e keycard.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	lim := guard.New(guard.Config{Limit: 3, Window: 10 * time.Minute, Manager: m, Now: clock.Now})
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if wait, _ := lim.Check(ctx, "user:alice"); wait != 0 {
			t.Fatalf("attempt %d must wait %v before reaching the limit", i, wait)
		}
		wait, err := lim.Fail(ctx, "user:alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		if (i < 3) != (wait == 0) {
			t.Fatalf("after failure %d: wait %v", i, wait)
		}
	}
	clock.Advance(4 * time.Minute)
	if wait, _ := lim.Check(ctx, "user:alice"); wait != 6*time.Minute {
		t.Errorf("got wait %v, want 6m (the window's rest)", wait)
	}
	if wait, _ := lim.Check(ctx, "user:bob"); wait != 0 {
		t.Errorf("another key must wait %v", wait)
	}
	clock.Advance(6 * time.Minute)
	if wait, _ := lim.Check(ctx, "user:alice"); wait != 0 {
		t.Errorf("after the window: wait %v", wait)
	}
	lim.Fail(ctx, "user:alice", nil)
	lim.Reset(ctx, "user:alice")
	if wait, _ := lim.Check(ctx, "user:alice"); wait != 0 {
		t.Errorf("after Reset: wait %v", wait)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0].Kind != guard.EventLimit {
		t.Errorf("got events %v, want one login-failures event", events)
	}
	for _, e := range events {
		if e.Reason == "user:alice" || e.Session == "user:alice" {
			t.Error("the event carries the raw key")
		}
	}
}

func TestConcurrentFailuresAreAllCounted(t *testing.T) {
	t.Parallel()
	lim := guard.New(guard.Config{Limit: 50})
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 49 {
		wg.Go(func() { lim.Fail(ctx, "ip:192.0.2.1", nil) })
	}
	wg.Wait()
	if wait, _ := lim.Check(ctx, "ip:192.0.2.1"); wait != 0 {
		t.Fatalf("49 of 50 failures already lock the key")
	}
	if wait, _ := lim.Fail(ctx, "ip:192.0.2.1", nil); wait == 0 {
		t.Error("the 50th concurrent failure did not lock the key: some were lost")
	}
}
