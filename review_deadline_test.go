package keycard

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestStoreCallErrDoesNotChange: once a call's context reports an error,
// it reports the same one (the context.Context contract), even when the
// request's context is canceled afterwards.
func TestStoreCallErrDoesNotChange(t *testing.T) {
	st := timed(plainStore{newCountingStore()}, 160*time.Millisecond).(timedStore)
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		defer cancel()
		bound, err := st.bound(parent)
		if err != nil {
			t.Fatal(err)
		}
		<-bound.Done()
		first := bound.Err()
		cancel()
		if !errors.Is(first, context.DeadlineExceeded) || bound.Err() != first {
			t.Errorf("at its deadline a call's context reports %v, after the request is canceled %v; want context.DeadlineExceeded both times", first, bound.Err())
		}
	})
}

// TestStoreCallDeadlinesInBubblesPastAYear: bubbles whose clocks have
// passed 2001, at the same fake instant, still get ticks of their own: a
// channel of one bubble received from in another is a fatal error.
func TestStoreCallDeadlinesInBubblesPastAYear(t *testing.T) {
	st := timed(plainStore{newCountingStore()}, 160*time.Millisecond).(timedStore)
	var ticks []*tick
	for range 2 {
		synctest.Test(t, func(t *testing.T) {
			time.Sleep(400 * 24 * time.Hour)
			bound, err := st.bound(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			tk := bound.(*boundCtx).t
			for _, other := range ticks {
				if other == tk {
					t.Fatal("a bubble got the tick of another bubble")
				}
			}
			ticks = append(ticks, tk)
			<-bound.Done()
		})
	}
}

// TestStoreCallsShareTicksOnTheRealClock: outside a bubble, calls made
// one after the other (well within a sixteenth of the timeout, an hour)
// share a tick.
func TestStoreCallsShareTicksOnTheRealClock(t *testing.T) {
	st := timed(plainStore{newCountingStore()}, 16*time.Hour).(timedStore)
	a, errA := st.bound(context.Background())
	b, errB := st.bound(context.Background())
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	ta, tb := a.(*boundCtx).t, b.(*boundCtx).t
	t.Cleanup(ta.stop)
	t.Cleanup(tb.stop)
	if ta != tb {
		t.Error("two calls a moment apart on the real clock got ticks of their own")
	}
}

// TestStoreCallAfterFunc: context.AfterFunc on a call's context, as a
// driver watching it does, runs its function at the call's deadline, and
// a context derived from the call's is done then too, without a
// goroutine of its own per call.
func TestStoreCallAfterFunc(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 80 * time.Millisecond
		st := timed(plainStore{newCountingStore()}, timeout).(timedStore)
		bound, err := st.bound(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var ran atomic.Bool
		context.AfterFunc(bound, func() { ran.Store(true) })
		stopped := false
		stop := context.AfterFunc(bound, func() { stopped = true })
		derived, cancel := context.WithCancel(bound)
		defer cancel()
		if !stop() {
			t.Error("stopping an AfterFunc before the deadline failed")
		}
		<-derived.Done()
		synctest.Wait()
		if !ran.Load() || stopped {
			t.Errorf("at the deadline: AfterFunc ran %t (want true), the stopped one ran %t (want false)", ran.Load(), stopped)
		}
		if !errors.Is(derived.Err(), context.DeadlineExceeded) {
			t.Errorf("a derived context reports %v, want context.DeadlineExceeded", derived.Err())
		}
	})
}
