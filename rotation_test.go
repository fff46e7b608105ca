package keycard

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard/event"
)

func rotatingFixture(t *testing.T) *fixture {
	return newFixture(t, Config{
		Timeouts:    Timeouts{Idle: time.Hour, Absolute: 8 * time.Hour},
		RotateEvery: 15 * time.Minute, RotationGrace: 30 * time.Second,
	})
}

func TestPeriodicRotationWithGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rotatingFixture(t)
		c := f.client()
		c.get("/login?u=alice")
		c.get("/put?k=a&v=1")
		first := c.cookie
		time.Sleep(10 * time.Minute)
		c.get("/get?k=a")
		if c.cookie != first {
			t.Fatal("rotated before RotateEvery")
		}
		time.Sleep(6 * time.Minute)
		if got := c.get("/get?k=a"); got != "1" {
			t.Fatalf("rotating request read %q", got)
		}
		if c.cookie == first {
			t.Fatal("no rotation after RotateEvery")
		}
		second := c.cookie
		if !f.events.has(event.Renewed, event.ReasonRotate) {
			t.Error("no rotate event")
		}
		// A request still holding the old ID within the grace period is
		// served the live session and handed the new ID.
		time.Sleep(10 * time.Second)
		late := &client{f: f, cookie: first}
		if got := late.get("/put?k=b&v=2"); got != "" {
			t.Fatalf("late write: %q", got)
		}
		if late.cookie != second {
			t.Errorf("the late request got cookie %.10q..., want the rotated one", late.cookie)
		}
		if got := c.get("/get?k=b"); got != "2" {
			t.Errorf("a write through the old ID in the grace period was lost: %q", got)
		}
		if got := c.get("/user"); got != "alice" {
			t.Errorf("rotation lost the user: %q", got)
		}
		// After the grace period the old ID is dead.
		time.Sleep(30 * time.Second)
		if got := (&client{f: f, cookie: first}).get("/user"); got != "" {
			t.Errorf("the old ID still works after the grace period: %q", got)
		}
		if got := c.get("/user"); got != "alice" {
			t.Errorf("the rotated session died with the grace period: %q", got)
		}
	})
}

func TestRotationUnderConcurrentWritesLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rotatingFixture(t)
		f.mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
			if _, err := Update(r.Context(), FromContext(r.Context()), "n", func(n int) int { return n + 1 }); err != nil {
				t.Error(err)
			}
		})
		c := f.client()
		c.get("/login?u=alice")
		time.Sleep(16 * time.Minute) // every request below is due to rotate
		start := c.cookie
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() { (&client{f: f, cookie: start}).get(fmt.Sprintf("/put?k=k%02d&v=x", i)) })
			wg.Go(func() { (&client{f: f, cookie: start}).get("/count") })
		}
		wg.Wait()
		f.mux.HandleFunc("/summary", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			n, _ := Get[int](s, "n")
			fmt.Fprint(w, len(s.Keys())-1, " ", n)
		})
		if got := (&client{f: f, cookie: start}).get("/summary"); got != "40 40" {
			t.Errorf("got %q (keys, counter), want 40 40", got)
		}
	})
}

func TestIsTombstone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rotatingFixture(t)
		c := f.client()
		c.get("/put?k=a&v=1")
		old := f.hashOf(c.cookie)
		time.Sleep(16 * time.Minute)
		c.get("/get?k=a")
		tomb, err := f.st.Store.Load(t.Context(), old)
		if err != nil {
			t.Fatal(err)
		}
		live, err := f.st.Store.Load(t.Context(), f.hashOf(c.cookie))
		if err != nil {
			t.Fatal(err)
		}
		if !IsTombstone(tomb) || IsTombstone(live) {
			t.Errorf("IsTombstone: old record %v, live record %v; want true, false", IsTombstone(tomb), IsTombstone(live))
		}
	})
}

// I-5: a device list loaded before another device's session rotated names
// the old hash. Within the grace period, OpenByHash and Revoke by that hash
// still reach the session under its new ID, so a revoke posted from the
// stale page ends it rather than failing silently.
func TestRevokeByAHashRotatedAway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rotatingFixture(t)
		c := f.client()
		c.get("/login?u=alice")
		stale := f.hashOf(c.cookie)
		time.Sleep(16 * time.Minute)
		c.get("/user") // rotates
		if f.hashOf(c.cookie) == stale {
			t.Fatal("no rotation")
		}
		s, err := f.m.OpenByHash(t.Context(), stale)
		if err != nil || s.UserID() != "alice" || s.Info().Hash != f.hashOf(c.cookie) {
			t.Fatalf("OpenByHash(old hash): user %q, hash %.8s, %v; want alice under the new hash", s.UserID(), s.Info().Hash, err)
		}
		if err := f.m.Revoke(t.Context(), stale); err != nil {
			t.Fatal(err)
		}
		if got := c.get("/user"); got != "" {
			t.Errorf("after a revoke by the rotated-away hash the session still serves %q", got)
		}
	})
}
