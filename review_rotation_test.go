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

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// TestReviewLogoutOnAnotherInstanceDuringRotation: another instance logs
// the session out between a rotation's save of the new record and its
// retire of the old one. The rotation deletes its new record: neither
// ID, on either instance, serves alice afterwards, and nothing but
// markers is left in the store.
func TestReviewLogoutOnAnotherInstanceDuringRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, instance, ms, c := markerFixture(t)
		start := c.cookie
		ms.onMarker = func() {
			ms.onMarker = nil // the logout's own marker must not recurse
			if res := (&client{f: instance, cookie: start}).do("GET", "/logout"); res.Code != http.StatusOK {
				t.Errorf("logout answered %d", res.Code)
			}
		}
		c.do("GET", "/put?k=b&v=2")
		if ms.onMarker != nil {
			t.Fatal("the rotation never retired the old record")
		}
		next := f.m.ids.next(mustID(t, f, start))
		for _, on := range []*fixture{f, instance} {
			if got := (&client{f: on, cookie: start}).get("/user"); got != "" {
				t.Errorf("the pre-rotation ID serves %q after the logout", got)
			}
			if got := (&client{f: on, cookie: f.m.ids.sign(&next)}).get("/user"); got != "" {
				t.Errorf("the rotated ID serves %q after the logout", got)
			}
		}
		if got := c.get("/user"); got != "" {
			t.Errorf("the rotating client still serves %q after the logout", got)
		}
		if n := liveSessions(t, f); n != 0 {
			t.Errorf("%d live sessions after the logout", n)
		}
	})
}

// TestReviewLoginStarvedByAnotherInstanceSignsNobodyIn: another instance
// writes the anonymous session before every one of a login's attempts
// to retire it. The login undoes its move and fails: nobody is signed
// in under any ID, one record holds the cart and every write of the
// other instance, under the ID the client presented.
func TestReviewLoginStarvedByAnotherInstanceSignsNobodyIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := &markerStore{countingStore: newCountingStore()}
		f, instance := newFixture(t, Config{Store: ms}), newFixture(t, Config{Store: ms})
		f.st, instance.st = ms.countingStore, ms.countingStore
		c := f.client()
		c.get("/put?k=cart&v=1")
		start := c.cookie
		n := 0
		ms.onMarker = func() {
			(&client{f: instance, cookie: start}).get(fmt.Sprintf("/put?k=o%02d&v=x", n))
			n++
		}
		if res := c.do("GET", "/login?u=alice"); res.Code != http.StatusServiceUnavailable {
			t.Errorf("the starved login answered %d, want 503", res.Code)
		}
		ms.onMarker = nil
		if n != maxRetries+1 {
			t.Errorf("the other instance wrote %d times, want %d", n, maxRetries+1)
		}
		if c.cookie != start {
			t.Error("the failed login moved the client")
		}
		if got := f.records(); got != 1 {
			t.Errorf("%d records, want the anonymous session alone", got)
		}
		f.mux.HandleFunc("/summary", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			fmt.Fprint(w, s.UserID(), len(s.Keys()))
		})
		for _, on := range []*fixture{f, instance} {
			on.mux.HandleFunc("/who", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, FromContext(r.Context()).UserID())
			})
			if got := (&client{f: on, cookie: start}).get("/who"); got != "" {
				t.Errorf("the presented ID is signed in as %q", got)
			}
		}
		if got, want := c.get("/summary"), fmt.Sprint(n+1); got != want {
			t.Errorf("user and keys %q, want %q (anonymous, cart and every other write)", got, want)
		}
	})
}

// TestReviewBatchedRotationOnTwoInstancesLosesNothing: as
// TestRotationOnTwoInstancesLosesNothing over a store that batches
// (the memory store itself), so that rotations move in one SaveBatch
// and fall back to save-then-retire when it conflicts.
func TestReviewBatchedRotationOnTwoInstancesLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := memory.New(memory.Config{})
		cfg := Config{
			Store:       mem,
			Timeouts:    Timeouts{Idle: time.Hour, Absolute: 8 * time.Hour},
			RotateEvery: 15 * time.Minute, RotationGrace: 30 * time.Second,
		}
		f, instance := newFixture(t, cfg), newFixture(t, cfg)
		f.st = &countingStore{Store: mem}
		count := func(w http.ResponseWriter, r *http.Request) {
			if _, err := Update(r.Context(), FromContext(r.Context()), "n", func(n int) int { return n + 1 }); err != nil {
				t.Error(err)
			}
		}
		f.mux.HandleFunc("/count", count)
		instance.mux.HandleFunc("/count", count)
		c := f.client()
		c.get("/login?u=alice")
		time.Sleep(16 * time.Minute)
		start := c.cookie
		var wg sync.WaitGroup
		for i := range 40 {
			on := []*fixture{f, instance}[i%2]
			wg.Go(func() { (&client{f: on, cookie: start}).get(fmt.Sprintf("/put?k=k%02d&v=x", i)) })
			wg.Go(func() { (&client{f: on, cookie: start}).get("/count") })
		}
		wg.Wait()
		f.mux.HandleFunc("/summary", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			n, _ := Get[int](s, "n")
			fmt.Fprint(w, len(s.Keys())-1, " ", n, " ", s.UserID())
		})
		if got := (&client{f: f, cookie: start}).get("/summary"); got != "40 40 alice" {
			t.Errorf("got %q (keys, counter, user), want 40 40 alice", got)
		}
		if got := f.records(); got != 2 {
			t.Errorf("the store holds %d records, want the session and one marker", got)
		}
	})
}

// TestReviewMovesAndWritesOnOneInstanceNeverDeadlock: Updates, Puts,
// renewals, logins and rotations of one session on one instance, with
// handlers that write before and after a renewal, all finish (a lane
// re-entered by its holder or a Session.mu/lane inversion would leave
// the bubble durably blocked, which synctest reports).
func TestReviewMovesAndWritesOnOneInstanceNeverDeadlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rotatingFixture(t)
		f.mux.HandleFunc("/mixed", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			_, err := Update(r.Context(), s, "n", func(n int) int { return n + 1 })
			if err != nil && !errors.Is(err, ErrSessionGone) {
				t.Error(err)
			}
			switch r.URL.Query().Get("op") {
			case "login":
				err = f.m.Login(r.Context(), s, "alice")
			case "renew":
				err = f.m.Renew(r.Context(), s)
			}
			if err != nil && !errors.Is(err, ErrSessionGone) {
				t.Error(err)
			}
			s.Put("after", "x")
			_, err = Update(r.Context(), s, "m", func(n int) int { return n + 1 })
			if err != nil && !errors.Is(err, ErrSessionGone) {
				t.Error(err)
			}
		})
		c := f.client()
		c.get("/login?u=alice")
		time.Sleep(16 * time.Minute)
		start := c.cookie
		var wg sync.WaitGroup
		for i := range 30 {
			op := []string{"", "login", "renew", "", "put"}[i%5]
			wg.Go(func() {
				if op == "put" {
					(&client{f: f, cookie: start}).get(fmt.Sprintf("/put?k=p%02d&v=x", i))
					return
				}
				(&client{f: f, cookie: start}).get("/mixed?op=" + op)
			})
		}
		wg.Wait()
	})
}

// mustID returns the ID cookie value v carries.
func mustID(t *testing.T, f *fixture, v string) *sessionID {
	id, reason := f.m.ids.verify(v)
	if reason != "" {
		t.Fatalf("cookie does not verify: %s", reason)
	}
	return &id
}

// liveSessions counts alice's records in the fixture's store that are
// sessions, not markers.
func liveSessions(t *testing.T, f *fixture) int {
	entries, err := f.st.ListUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !IsTombstone(e.Record) {
			n++
		}
	}
	return n
}

// TestReviewSealedLoginFromAStaleCookie: in sealed mode each request's
// records are its own cookie's, yet the lane's table of recent writes is
// shared by key. A login (which now catches up in the lane) from a cookie
// older than another request's write, and parallel logins and writes
// from one cookie, still sign in with the cookie's values.
func TestReviewSealedLoginFromAStaleCookie(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{})
		m, err := New(Config{Sealed: true, Keys: []Key{testKey(1)}, OnEvent: f.events.add})
		if err != nil {
			t.Fatal(err)
		}
		f.m, f.h = m, m.Handler(f.mux)
		c := f.client()
		c.get("/put?k=cart&v=1")
		stale := &client{f: f, cookie: c.cookie}
		c.get("/put?k=other&v=2") // recorded in the lane's table
		if res := stale.do("GET", "/login?u=alice"); res.Code != http.StatusOK {
			t.Fatalf("login from a stale sealed cookie answered %d: %s", res.Code, res.Body)
		}
		if got := stale.get("/user") + stale.get("/get?k=cart"); got != "alice1" {
			t.Errorf("after the login: %q, want alice1", got)
		}
		start := c.cookie
		var wg sync.WaitGroup
		logins := make([]*client, 6)
		for i := range logins {
			logins[i] = &client{f: f, cookie: start}
			wg.Go(func() {
				if i%2 == 0 {
					if res := logins[i].do("GET", "/login?u=bob"); res.Code != http.StatusOK {
						t.Errorf("parallel sealed login answered %d: %s", res.Code, res.Body)
					}
				} else {
					logins[i].get(fmt.Sprintf("/put?k=p%d&v=x", i))
				}
			})
		}
		wg.Wait()
		for i := 0; i < len(logins); i += 2 {
			if got := logins[i].get("/user") + logins[i].get("/get?k=other"); got != "bob2" {
				t.Errorf("parallel sealed login %d: %q, want bob2", i, got)
			}
		}
	})
}

// The tests below each found a problem, since fixed.

// moveFaultStore fails, while told to, the saves of rotation and renewal
// markers and every delete.
type moveFaultStore struct {
	*countingStore
	failMarker, failDelete bool
}

func (m *moveFaultStore) Save(ctx context.Context, key string, rec *store.Record) error {
	if IsTombstone(rec) && m.failMarker {
		return errDown
	}
	return m.countingStore.Save(ctx, key, rec)
}

func (m *moveFaultStore) Delete(ctx context.Context, key string) error {
	if m.failDelete {
		return errDown
	}
	return m.countingStore.Delete(ctx, key)
}

// faultFixture is a rotating fixture over a moveFaultStore with a
// signed-in client whose next request is due to rotate.
func faultFixture(t *testing.T) (*fixture, *moveFaultStore, *client) {
	fs := &moveFaultStore{countingStore: newCountingStore()}
	f := newFixture(t, Config{
		Store:       fs,
		Timeouts:    Timeouts{Idle: time.Hour, Absolute: 8 * time.Hour},
		RotateEvery: 15 * time.Minute, RotationGrace: 30 * time.Second,
	})
	f.st = fs.countingStore
	c := f.client()
	c.get("/login?u=alice")
	c.get("/put?k=a&v=1")
	time.Sleep(16 * time.Minute)
	return f, fs, c
}

// A rotation that saved its new record but could not remove it again (its
// retire failed and so did undoMove's delete; equally an instance that
// dies between the two writes, on a store that does not batch) leaves an
// orphan under the derived ID, and every later rotation finds that ID
// taken and stays, until the orphan expires (at most Idle later). The
// session must still be touched meanwhile: a failed create's prepare set
// s.rec.LastSeen to now, and the rebase that follows now takes the stored
// activity times back, so a session used every 10 minutes (Idle is an
// hour) lives on, and rotates once the orphan has expired.
func TestReviewOrphanedMoveBlocksRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, fs, c := faultFixture(t)
		start := c.cookie
		fs.failMarker, fs.failDelete = true, true
		if res := c.do("GET", "/put?k=b&v=2"); res.Code != http.StatusServiceUnavailable {
			t.Fatalf("the failing rotation answered %d", res.Code)
		}
		fs.failMarker, fs.failDelete = false, false
		if got := f.records(); got != 2 {
			t.Fatalf("records after the failed undo: %d, want the session and the orphan", got)
		}
		for i := range 6 {
			time.Sleep(10 * time.Minute)
			kept := c.cookie == start
			if got := c.get("/user"); got != "alice" {
				t.Fatalf("request %d, %d minutes after the failure, used every 10: user %q (old ID kept until then: %v)", i, 10*(i+1), got, kept)
			}
		}
		if c.cookie == start {
			t.Errorf("an hour after the failed rotation the session still has its old ID")
		}
	})
}

// The same through a store outage: retire keeps the new record when the
// store fails both the marker save and the look that follows (6cfaea7),
// so a moment's outage during a retire leaves the orphan; the session
// lives on and rotates once the orphan has expired.
func TestReviewOutageDuringRetireStrandsSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, _, ms, c := markerFixture(t)
		start := c.cookie
		ms.onMarker = func() { ms.countingStore.fail.Store(true) } // the store goes down
		c.do("GET", "/put?k=b&v=2")
		ms.onMarker = nil
		ms.countingStore.fail.Store(false) // and is back
		if got := f.records(); got != 2 {
			t.Fatalf("records after the outage: %d, want the session and the kept new record", got)
		}
		for i := range 6 {
			time.Sleep(10 * time.Minute)
			kept := c.cookie == start
			if got := c.get("/user"); got != "alice" {
				t.Fatalf("request %d, %d minutes after the outage, used every 10: user %q (old ID kept until then: %v)", i, 10*(i+1), got, kept)
			}
		}
		if c.cookie == start {
			t.Errorf("an hour after the outage the session still has its old ID")
		}
	})
}

// A Login on one instance whose old record another instance rotated
// meanwhile follows the rotation's marker and retires the rotated copy
// too (loadOld): otherwise alice had two live records, and the pre-login
// ID still reached one of them (through the rotation's marker, and for
// good under the rotated ID).
func TestReviewLoginRacingRotationOnAnotherInstanceForks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, instance, _, c := markerFixture(t)
		start := c.cookie
		other := &client{f: instance, cookie: start}
		f.mux.HandleFunc("/relogin", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			_ = s.UserID()     // loaded before the rotation
			other.get("/user") // another instance rotates the session
			if err := f.m.Login(r.Context(), s, "alice"); err != nil {
				http.Error(w, err.Error(), 500)
			}
		})
		if res := c.do("GET", "/relogin"); res.Code != http.StatusOK {
			t.Fatalf("relogin answered %d", res.Code)
		}
		if other.cookie == start {
			t.Fatal("the other instance did not rotate")
		}
		time.Sleep(time.Minute) // past the grace period
		if got := other.get("/user"); got != "" {
			t.Errorf("after a re-login, the rotated copy of the pre-login session still serves %q (%d records)", got, f.records())
		}
	})
}

// A session opened by hash (OpenByHash) whose save races a rotation
// follows the key the rotation's marker names (reload), as load and bury
// do, instead of reporting ErrSessionGone and losing its write.
func TestReviewOpenByHashSaveAfterRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rotatingFixture(t)
		c := f.client()
		c.get("/login?u=alice")
		time.Sleep(16 * time.Minute)
		s, err := f.m.OpenByHash(t.Context(), f.hashOf(c.cookie))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put("x", "1"); err != nil {
			t.Fatal(err)
		}
		start := c.cookie
		c.get("/user") // rotates
		if c.cookie == start {
			t.Fatal("no rotation")
		}
		if err := f.m.Save(t.Context(), s); err != nil {
			t.Errorf("Save of a session opened by hash, rotated meanwhile: %v", err)
		}
		if got := c.get("/get?k=x"); got != "1" {
			t.Errorf("the write through OpenByHash was lost: %q", got)
		}
	})
}
