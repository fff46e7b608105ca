package keycard

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard/event"
)

// These tests run in a synctest bubble: time.Now is a fake clock that moves
// only when every goroutine in the bubble is blocked, so time.Sleep jumps.

func TestIdleTimeoutIsEnforcedOnTheServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Timeouts: Timeouts{Idle: 10 * time.Minute, Absolute: time.Hour}})
		c := f.client()
		c.get("/put?k=a&v=1")
		captured := c.cookie
		time.Sleep(10*time.Minute - time.Second)
		if got := c.get("/get?k=a"); got != "1" {
			t.Fatalf("activity just before the idle deadline: got %q, want 1", got)
		}
		time.Sleep(10*time.Minute - time.Second)
		if got := c.get("/get?k=a"); got != "1" {
			t.Fatalf("the touch did not extend the idle deadline: got %q", got)
		}
		time.Sleep(10*time.Minute + time.Second)
		if got := (&client{f: f, cookie: captured}).get("/get?k=a"); got != "" {
			t.Errorf("past the idle deadline: got %q, want an empty session", got)
		}
		if f.stored(captured) {
			t.Error("the idle-expired record is still stored")
		}
	})
}

func TestAbsoluteTimeoutEndsAnActiveSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Timeouts: Timeouts{Idle: 10 * time.Minute, Absolute: time.Hour}})
		c := f.client()
		c.get("/put?k=a&v=1")
		for elapsed := time.Duration(0); elapsed < time.Hour-5*time.Minute; elapsed += 5 * time.Minute {
			time.Sleep(5 * time.Minute)
			if got := c.get("/get?k=a"); got != "1" {
				t.Fatalf("active session lost at %v: got %q", elapsed+5*time.Minute, got)
			}
		}
		time.Sleep(5*time.Minute + time.Second)
		w := c.do("GET", "/get?k=a")
		if w.Body.String() != "" {
			t.Errorf("past the absolute deadline: got %q, want an empty session", w.Body.String())
		}
		// The memory store hides expired records itself, so the manager
		// sees an unknown ID; a store that lags reports the expiry.
		if !f.events.has(event.Expired, event.ReasonAbsolute) && !f.events.has(event.Rejected, event.ReasonUnknown) {
			t.Error("no event for the expired session")
		}
	})
}

func TestRenewDoesNotExtendTheAbsoluteDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Timeouts: Timeouts{Idle: 30 * time.Minute, Absolute: time.Hour}})
		c := f.client()
		c.get("/put?k=a&v=1")
		for range 3 {
			time.Sleep(19*time.Minute + 40*time.Second)
			c.get("/get?k=a") // activity within the idle timeout
		}
		c.get("/login?u=alice")
		if got := c.get("/user"); got != "alice" {
			t.Fatalf("got %q, want alice", got)
		}
		time.Sleep(time.Minute + time.Second)
		if got := c.get("/user"); got != "" {
			t.Errorf("login extended the absolute deadline: still %q", got)
		}
	})
}

func TestTouchesAreThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Timeouts: Timeouts{Idle: 10 * time.Minute, Absolute: time.Hour}})
		c := f.client()
		c.get("/put?k=a&v=1")
		f.st.reset()
		for range 10 {
			time.Sleep(50 * time.Second) // under a tenth of the idle timeout
			c.get("/get?k=a")
		}
		// A touch happens only once a minute (a tenth of the idle timeout)
		// has passed since the last: with reads 50 s apart, every other read.
		if n := f.st.touches.Load(); n != 5 {
			t.Errorf("got %d touches over 10 reads 50 s apart, want 5", n)
		}
		if n := f.st.saves.Load(); n != 0 {
			t.Errorf("reads caused %d saves", n)
		}
	})
}
