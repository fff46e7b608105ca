package keycard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
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
		writeAll(t, f, c.cookie, func(int) *fixture { return f })
	})
}

// writeAll sends at once, all with the cookie start, 40 Puts of distinct
// keys and 40 requests to /count (an Update of "n"), the i-th of each to
// the instance on(i), then checks through f that the session kept every
// key and all 40 increments.
func writeAll(t *testing.T, f *fixture, start string, on func(i int) *fixture) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range 40 {
		g := on(i)
		wg.Go(func() { (&client{f: g, cookie: start}).get(fmt.Sprintf("/put?k=k%02d&v=x", i)) })
		wg.Go(func() { (&client{f: g, cookie: start}).get("/count") })
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

// markerStore runs onMarker before each save of a rotation's or renewal's
// marker, while it is set, and then fails that save with failMarker if
// that is set.
type markerStore struct {
	*countingStore
	onMarker   func()
	failMarker error
	landMarker bool // write the marker before failing its save
}

func (m *markerStore) Save(ctx context.Context, key string, rec *store.Record) error {
	if IsTombstone(rec) {
		if f := m.onMarker; f != nil {
			f()
		}
		if m.failMarker != nil {
			if m.landMarker {
				if err := m.countingStore.Save(ctx, key, rec); err != nil {
					return err
				}
			}
			return m.failMarker
		}
	}
	return m.countingStore.Save(ctx, key, rec)
}

// markerFixture is a rotating fixture over a markerStore, with a second
// instance (another Manager) on the same store, and a signed-in client
// whose every request is due to rotate.
func markerFixture(t *testing.T) (f, instance *fixture, ms *markerStore, c *client) {
	ms = &markerStore{countingStore: newCountingStore()}
	cfg := Config{
		Store:       ms,
		Timeouts:    Timeouts{Idle: time.Hour, Absolute: 8 * time.Hour},
		RotateEvery: 15 * time.Minute, RotationGrace: 30 * time.Second,
	}
	f, instance = newFixture(t, cfg), newFixture(t, cfg)
	f.st, instance.st = ms.countingStore, ms.countingStore
	c = f.client()
	c.get("/login?u=alice")
	time.Sleep(16 * time.Minute)
	return f, instance, ms, c
}

// rotatedKey returns the store key that the session of cookie value v
// rotates to.
func (f *fixture) rotatedKey(v string) string {
	id, reason := f.m.ids.verify(v)
	if reason != "" {
		f.t.Fatalf("cookie %q does not decode: %s", v, reason)
	}
	next := f.m.ids.next(&id)
	return next.hash()
}

// records counts the records the fixture's store holds.
func (f *fixture) records() int {
	return f.st.Store.(*memory.Store).Len()
}

// TestRotationAgainstAnotherInstancesWritesNeverForks: another instance
// writes the session before each of a rotation's attempts to retire the
// old record, so every attempt conflicts. The rotation gives up and
// undoes its move: the session stays under its old ID, with the
// rotating request's write and every one of the other instance's (whose
// own rotations found the new ID taken and saved under the old one), in
// one record, and it rotates on a later request.
func TestRotationAgainstAnotherInstancesWritesNeverForks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, instance, ms, c := markerFixture(t)
		start := c.cookie
		n := 0
		ms.onMarker = func() {
			(&client{f: instance, cookie: start}).get(fmt.Sprintf("/put?k=other%03d&v=x", n))
			n++
		}
		if res := c.do("GET", "/put?k=mine&v=1"); res.Code != http.StatusOK {
			t.Fatalf("the rotating request answered %d", res.Code)
		}
		ms.onMarker = nil
		if c.cookie != start {
			t.Error("a rotation that could not retire the old record still moved the client")
		}
		if got := f.records(); got != 1 {
			t.Errorf("the store holds %d records, want the session's alone", got)
		}
		if n != maxRetries+1 {
			t.Errorf("the other instance wrote %d times, want one per attempt (%d)", n, maxRetries+1)
		}
		time.Sleep(time.Minute)
		f.mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			mine, _ := Get[string](s, "mine")
			fmt.Fprint(w, len(s.Keys()), " ", mine)
		})
		if got, want := c.get("/count"), fmt.Sprint(n+1, " 1"); got != want {
			t.Errorf("keys, mine: %q, want %q", got, want)
		}
		if c.cookie == start {
			t.Error("the session did not rotate on the next request")
		}
		if got := c.get("/count"); got != fmt.Sprint(n+1, " 1") || f.records() != 2 {
			t.Errorf("after the rotation: %q in %d records, want %d keys in the session and its marker", got, f.records(), n+1)
		}
	})
}

// TestRotationThatFailsToRetireUndoesItsMove: a store failure while the
// old record is retired fails the request, and leaves the session under
// its old ID alone, with no second record for anyone to find later.
func TestRotationThatFailsToRetireUndoesItsMove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, _, ms, c := markerFixture(t)
		c.get("/put?k=a&v=1") // rotates
		time.Sleep(16 * time.Minute)
		start := c.cookie
		ms.failMarker = errDown
		if res := c.do("GET", "/put?k=b&v=2"); res.Code != http.StatusServiceUnavailable {
			t.Errorf("the request whose rotation failed answered %d, want 503", res.Code)
		}
		ms.failMarker = nil
		if _, err := f.st.Store.Load(t.Context(), f.rotatedKey(start)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the key the failed rotation moved to: %v, want store.ErrNotFound", err)
		}
		if c.cookie != start {
			t.Error("the failed rotation moved the client")
		}
		if got := c.get("/get?k=a") + c.get("/get?k=b") + c.get("/user"); got != "1alice" {
			t.Errorf("after the failed rotation: %q, want 1alice (b was never saved)", got)
		}
		if c.cookie == start {
			t.Error("the session did not rotate on the next request")
		}
	})
}

// TestRotationOnTwoInstancesLosesNothing: as
// TestRotationUnderConcurrentWritesLosesNothing, with the requests spread
// over two instances (two Managers on one store), whose rotations and
// writes conflict in the store itself.
func TestRotationOnTwoInstancesLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, instance, _, c := markerFixture(t)
		count := func(w http.ResponseWriter, r *http.Request) {
			if _, err := Update(r.Context(), FromContext(r.Context()), "n", func(n int) int { return n + 1 }); err != nil {
				t.Error(err)
			}
		}
		f.mux.HandleFunc("/count", count)
		instance.mux.HandleFunc("/count", count)
		writeAll(t, f, c.cookie, func(i int) *fixture { return []*fixture{f, instance}[i%2] })
		if got := f.records(); got != 2 {
			t.Errorf("the store holds %d records, want the session and one marker", got)
		}
	})
}

// TestLoginThatFailsToRetireUndoesItsMove: a login whose renewal saved
// the new record but failed to retire the old one deletes the new record
// and fails as a login whose store failed: 503, nobody signed in under
// any ID, the anonymous session as it was.
func TestLoginThatFailsToRetireUndoesItsMove(t *testing.T) {
	ms := &markerStore{countingStore: newCountingStore()}
	f := newFixture(t, Config{Store: ms})
	f.st = ms.countingStore
	c := f.client()
	c.get("/put?k=cart&v=1")
	start := c.cookie
	ms.failMarker = errDown
	if res := c.do("GET", "/login?u=alice"); res.Code != http.StatusServiceUnavailable {
		t.Errorf("the failed login answered %d, want 503", res.Code)
	}
	ms.failMarker = nil
	if got := f.records(); got != 1 {
		t.Errorf("the store holds %d records, want the anonymous session alone", got)
	}
	if got := c.get("/user") + c.get("/get?k=cart"); got != "1" || c.cookie != start {
		t.Errorf("after the failed login: %q under a changed ID %v, want an anonymous session holding cart 1", got, c.cookie != start)
	}
	c.get("/login?u=alice")
	if got := c.get("/user") + c.get("/get?k=cart"); got != "alice1" || c.cookie == start {
		t.Errorf("the next login: %q, ID renewed %v; want alice1 under a new ID", got, c.cookie != start)
	}
}

// TestRotationWhoseMarkerSaveFailsAfterWritingCompletes: a marker save
// that reports an error although the marker was written (a timeout after
// the write) is found by a look at the old key: the rotation stands, and
// neither record is deleted.
func TestRotationWhoseMarkerSaveFailsAfterWritingCompletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, _, ms, c := markerFixture(t)
		start := c.cookie
		ms.failMarker, ms.landMarker = errDown, true
		if res := c.do("GET", "/put?k=b&v=2"); res.Code != http.StatusOK {
			t.Errorf("the rotating request answered %d, want 200", res.Code)
		}
		ms.failMarker = nil
		if c.cookie == start {
			t.Error("the client was not moved to the rotated ID")
		}
		if got := f.records(); got != 2 {
			t.Errorf("the store holds %d records, want the session and its marker", got)
		}
		if got := c.get("/get?k=b") + c.get("/user"); got != "2alice" {
			t.Errorf("after the rotation: %q, want 2alice", got)
		}
		if got := (&client{f: f, cookie: start}).get("/user"); got != "alice" {
			t.Errorf("the old ID within the grace period: user %q, want alice (through the marker)", got)
		}
	})
}

// TestFailedRenewalKeepsRotationDue: a Renew that fails and is undone
// (its marker could not be saved) leaves no stamp of a renewal behind,
// even when the handler ignores the error and saves other changes: the
// session, due to rotate, still rotates on its next request.
func TestFailedRenewalKeepsRotationDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, _, ms, c := markerFixture(t)
		f.mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			if err := f.m.Renew(r.Context(), s); err == nil {
				t.Error("Renew succeeded though its marker could not be saved")
			}
			s.Put("after", "1") // the handler goes on regardless
		})
		start := c.cookie
		ms.failMarker = errDown
		// Due to rotate too, but its own rotation would fail the same way:
		// the request answers 503, or saves "after" under the old ID.
		c.get("/renew")
		ms.failMarker = nil
		if c.cookie != start {
			t.Fatal("a renewal that failed moved the client")
		}
		c.get("/user")
		if c.cookie == start {
			t.Error("the session did not rotate on the next request: the failed renewal's stamp put it off")
		}
	})
}
