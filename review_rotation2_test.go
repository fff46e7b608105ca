package keycard

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

// Review of 174f43e (helper-25's fixes): takeRecord's activity times,
// loadOld, reload by hash, retire's marker-save errors.

// A rotation that stays (a parallel rotation on another instance moved
// the session first) rebases onto the rotated record, which that
// rotation has just stored: the read that stayed makes one write (its
// failed create of the derived ID) and no touch, and the client follows
// to the rotated ID.
func TestReview2StayOntoFreshRotationDoesNotTouch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, instance, _, c := markerFixture(t)
		start := c.cookie
		other := &client{f: instance, cookie: start}
		f.mux.HandleFunc("/race", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			_ = s.UserID()     // loaded before the other rotation
			other.get("/user") // the other instance rotates
			f.st.reset()
		})
		c.get("/race")
		if other.cookie == start {
			t.Fatal("the other instance did not rotate")
		}
		if got := f.st.touches.Load(); got != 0 {
			t.Errorf("the stayed read touched %d times, want 0 (the record it rebased onto was just stored)", got)
		}
		if got := f.st.saves.Load(); got != 1 {
			t.Errorf("the stayed read saved %d times, want 1 (its failed create)", got)
		}
		if c.cookie != other.cookie {
			t.Error("the stayed read did not hand out the rotated ID")
		}
		f.st.reset()
		if got := c.get("/user"); got != "alice" {
			t.Errorf("user %q after the race", got)
		}
		if got := f.st.writes(); got != 0 {
			t.Errorf("a plain read after the race made %d writes, want 0", got)
		}
	})
}

// A rotation that stays rebases onto a record whose activity is stale
// (an orphan under the derived ID blocks it): it touches the stored
// record once, and the next read within Idle/10 writes nothing.
func TestReview2StayOntoStaleRecordTouchesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, fs, c := faultFixture(t)
		fs.failMarker, fs.failDelete = true, true
		c.do("GET", "/put?k=b&v=2") // leaves an orphan under the derived ID
		fs.failMarker, fs.failDelete = false, false
		time.Sleep(10 * time.Minute)
		f.st.reset()
		if got := c.get("/user"); got != "alice" {
			t.Fatalf("user %q", got)
		}
		if got := f.st.touches.Load(); got != 1 {
			t.Errorf("the stayed read touched %d times, want 1", got)
		}
		f.st.reset()
		time.Sleep(time.Minute)
		if got := c.get("/user"); got != "alice" {
			t.Fatalf("user %q", got)
		}
		if got := f.st.touches.Load(); got != 0 {
			t.Errorf("a read a minute after the touch touched again (%d); the stayed request kept a stale LastSeen", got)
		}
	})
}

// Renew on one instance whose old record another instance rotated
// meanwhile (loadOld follows the marker): one live record, with the
// values of both, under the renewed ID; neither the pre-renewal ID nor
// the rotated one serves the session, on either instance.
func TestReview2RenewRacingRotationOnAnotherInstance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, instance, _, c := markerFixture(t)
		start := c.cookie
		other := &client{f: instance, cookie: start}
		f.mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			_ = s.UserID()
			other.get("/put?k=theirs&v=1") // rotates on the other instance, with a write
			s.Put("ours", "2")
			if err := f.m.Renew(r.Context(), s); err != nil {
				http.Error(w, err.Error(), 500)
			}
		})
		if res := c.do("GET", "/renew"); res.Code != http.StatusOK {
			t.Fatalf("renew answered %d: %s", res.Code, res.Body)
		}
		rotated := other.cookie
		if rotated == start {
			t.Fatal("the other instance did not rotate")
		}
		if got := c.get("/get?k=theirs") + c.get("/get?k=ours") + c.get("/user"); got != "12alice" {
			t.Errorf("renewed session: %q, want 12alice", got)
		}
		if n := liveSessions(t, f); n != 1 {
			t.Errorf("%d live sessions, want 1", n)
		}
		for _, on := range []*fixture{f, instance} {
			for _, v := range []string{start, rotated} {
				if got := (&client{f: on, cookie: v}).get("/user"); got != "" {
					t.Errorf("a superseded ID serves %q", got)
				}
			}
		}
	})
}

// Renew whose old record another instance rotated and then logged out
// (through the rotated ID) finds the chain ending in nothing: the renewal
// fails with ErrSessionGone and leaves no live record behind.
func TestReview2RenewAfterRotationAndLogoutElsewhereIsGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, instance, _, c := markerFixture(t)
		start := c.cookie
		other := &client{f: instance, cookie: start}
		var renewErr error
		f.mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			_ = s.UserID()
			other.get("/user")   // rotates
			other.get("/logout") // ends the rotated record
			renewErr = f.m.Renew(r.Context(), s)
		})
		c.get("/renew")
		if !errors.Is(renewErr, ErrSessionGone) {
			t.Errorf("Renew: %v, want ErrSessionGone", renewErr)
		}
		if n := liveSessions(t, f); n != 0 {
			t.Errorf("%d live sessions after the logout, want 0", n)
		}
		if got := c.get("/user"); got != "" {
			t.Errorf("the renewing client serves %q after the logout", got)
		}
	})
}

// A session opened by hash never follows a renewal's marker: its save
// after a login on that session reports ErrSessionGone, and the
// signed-in session does not get its write.
func TestReview2OpenByHashDoesNotFollowRenewal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rotatingFixture(t)
		c := f.client()
		c.get("/put?k=cart&v=1")
		s, err := f.m.OpenByHash(t.Context(), f.hashOf(c.cookie))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put("x", "1"); err != nil {
			t.Fatal(err)
		}
		c.get("/login?u=alice")
		if err := f.m.Save(t.Context(), s); !errors.Is(err, ErrSessionGone) {
			t.Errorf("Save by hash after a renewal: %v, want ErrSessionGone", err)
		}
		if got := c.get("/get?k=x") + c.get("/get?k=cart"); got != "1" {
			t.Errorf("signed-in session: x+cart = %q, want the cart alone", got)
		}
	})
}

// A session opened by hash follows a rotation that was itself rotated
// again (two hops), and saves onto the live record.
func TestReview2OpenByHashFollowsTwoRotations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{
			Timeouts:    Timeouts{Idle: time.Hour, Absolute: 8 * time.Hour},
			RotateEvery: 15 * time.Minute, RotationGrace: 30 * time.Minute,
		})
		c := f.client()
		c.get("/login?u=alice")
		time.Sleep(16 * time.Minute)
		s, err := f.m.OpenByHash(t.Context(), f.hashOf(c.cookie))
		if err != nil {
			t.Fatal(err)
		}
		s.Put("x", "1")
		start := c.cookie
		c.get("/user") // rotates
		time.Sleep(16 * time.Minute)
		c.get("/user") // rotates again, within the first marker's grace
		if c.cookie == start {
			t.Fatal("no rotation")
		}
		if err := f.m.Save(t.Context(), s); err != nil {
			t.Fatalf("Save by hash across two rotations: %v", err)
		}
		if got := c.get("/get?k=x"); got != "1" {
			t.Errorf("the write through OpenByHash was lost: %q", got)
		}
		if n := liveSessions(t, f); n != 1 {
			t.Errorf("%d live sessions, want 1", n)
		}
	})
}

// The tests below each found a problem, since fixed.

// Instance A loads the session; instance B rotates it (K0 -> K1, marker
// at K0) and then logs it out through K1 (bury deletes K1; K0's marker
// stays for the grace period). A's commit rotates: its create of K1
// succeeds (K1 is gone) and its retire of K0 finds the rotation marker.
// retire used to take that for a parallel rotation to the same ID and
// keep A's record, a live copy of the logged-out session; a marker found
// there now always means the move must not stand.
func TestReview2RotationResurrectsSessionLoggedOutElsewhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, instance, _, c := markerFixture(t)
		start := c.cookie
		other := &client{f: instance, cookie: start}
		f.mux.HandleFunc("/race", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			_ = s.UserID()       // loaded before the other instance acts
			other.get("/user")   // rotates K0 -> K1
			other.get("/logout") // buries K1
		})
		c.get("/race")
		if other.cookie != "" {
			t.Fatal("the logout did not clear the other client's cookie")
		}
		if got := c.get("/user"); got != "" {
			t.Errorf("after a logout on another instance, a rotation in flight revived the session: it serves %q (%d live records)", got, liveSessions(t, f))
		}
	})
}

// The same through RevokeUser ("log out everywhere").
func TestReview2RotationResurrectsSessionAfterRevokeUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, instance, _, c := markerFixture(t)
		start := c.cookie
		other := &client{f: instance, cookie: start}
		f.mux.HandleFunc("/race", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			_ = s.UserID()
			other.get("/user") // rotates K0 -> K1
			if _, err := instance.m.RevokeUser(r.Context(), "alice"); err != nil {
				t.Error(err)
			}
		})
		c.get("/race")
		if got := c.get("/user"); got != "" {
			t.Errorf("after RevokeUser, a rotation in flight revived the session: it serves %q (%d live records)", got, liveSessions(t, f))
		}
	})
}

// During a key rollout (a new key added in front of Config.Keys, the
// instances redeployed one by one), two instances derive different next
// IDs, and both rotations create their record. The second to retire used
// to keep its record beside the first's (two live records of alice, and
// diverging writes); it now undoes its move and follows the first's
// marker, deriving the ID the marker names with whichever of its keys
// derived it (idSigner.rotated), so both clients share one session.
func TestReview2RotationDuringKeyRolloutForks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := &markerStore{countingStore: newCountingStore()}
		cfg := Config{
			Store:       ms,
			Timeouts:    Timeouts{Idle: time.Hour, Absolute: 8 * time.Hour},
			RotateEvery: 15 * time.Minute, RotationGrace: 30 * time.Second,
		}
		cfg.Keys = []Key{testKey(1), testKey(2)}
		f := newFixture(t, cfg)
		cfg.Keys = []Key{testKey(2), testKey(1)} // already promoted the new key
		instance := newFixture(t, cfg)
		f.st, instance.st = ms.countingStore, ms.countingStore
		c := f.client()
		c.get("/login?u=alice")
		time.Sleep(16 * time.Minute)
		start := c.cookie
		other := &client{f: instance, cookie: start}
		f.mux.HandleFunc("/race", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			_ = s.UserID()
			other.get("/user") // rotates to the new key's derived ID
		})
		c.get("/race")
		c.get("/put?k=a&v=1")
		other.get("/put?k=b&v=2")
		if n := liveSessions(t, f); n != 1 {
			t.Errorf("%d live sessions of alice after two rotations, want 1", n)
		}
		if got := c.get("/get?k=b") + other.get("/get?k=a"); got != "21" {
			t.Errorf("the two clients do not share one session: %q, want 21", got)
		}
	})
}

// A rebase keeps the absolute deadline this request set: RememberMe(false)
// on a remembered session sets Persistent=false and Deadline to
// Created+Timeouts.Absolute (8h), and a rebase (here a catch-up onto a
// parallel request's write in the lane) used to take back the stored
// 30-day deadline (the reverse for RememberMe(true): 8 hours kept).
func TestReview2RememberMeSurvivesRebase(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, Config{
					Timeouts:   Timeouts{Idle: time.Hour, Absolute: 8 * time.Hour},
					RememberMe: Timeouts{Idle: 24 * time.Hour, Absolute: 30 * 24 * time.Hour},
				})
				f.mux.HandleFunc("/remember", func(w http.ResponseWriter, r *http.Request) {
					if err := f.m.RememberMe(FromContext(r.Context()), r.URL.Query().Get("on") == "1"); err != nil {
						t.Error(err)
					}
				})
				c := f.client()
				c.get("/login?u=alice")
				if !on {
					c.get("/remember?on=1")
				}
				other := &client{f: f, cookie: c.cookie}
				f.mux.HandleFunc("/race", func(w http.ResponseWriter, r *http.Request) {
					s := FromContext(r.Context())
					_ = s.UserID()
					other.get("/put?k=x&v=1") // a parallel write of this instance
					if err := f.m.RememberMe(s, on); err != nil {
						t.Error(err)
					}
				})
				c.get("/race")
				rec, err := f.st.Store.Load(t.Context(), f.hashOf(c.cookie))
				if err != nil {
					t.Fatal(err)
				}
				want := rec.Created.Add(8 * time.Hour)
				if on {
					want = rec.Created.Add(30 * 24 * time.Hour)
				}
				if rec.Persistent != on || !rec.Deadline.Equal(want) {
					t.Errorf("stored Persistent %v, deadline %v after creation; want %v, %v",
						rec.Persistent, rec.Deadline.Sub(rec.Created), on, want.Sub(rec.Created))
				}
			})
		})
	}
}

// A Login of another user clears the session's values, and a key that
// another instance added to the old record after this request loaded it
// is not among those it cleared: retire's absorb used to merge it into
// the new user's session. absorb now starts from nothing when this
// request cleared the values, as rebaseOnto does.
func TestReview2LoginAsAnotherUserAbsorbsOldUsersWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := &markerStore{countingStore: newCountingStore()}
		f, instance := newFixture(t, Config{Store: ms}), newFixture(t, Config{Store: ms})
		f.st, instance.st = ms.countingStore, ms.countingStore
		c := f.client()
		c.get("/login?u=alice")
		c.get("/put?k=a&v=1")
		other := &client{f: instance, cookie: c.cookie}
		f.mux.HandleFunc("/switch", func(w http.ResponseWriter, r *http.Request) {
			s := FromContext(r.Context())
			_ = s.UserID()
			other.get("/put?k=secret&v=alice") // alice's other tab, another instance
			if err := f.m.Login(r.Context(), s, "bob"); err != nil {
				http.Error(w, err.Error(), 500)
			}
		})
		if res := c.do("GET", "/switch"); res.Code != http.StatusOK {
			t.Fatalf("login answered %d: %s", res.Code, res.Body)
		}
		if got := c.get("/user"); got != "bob" {
			t.Fatalf("user %q, want bob", got)
		}
		if got := c.get("/get?k=a") + c.get("/get?k=secret"); got != "" {
			t.Errorf("bob's new session holds alice's values: %q", got)
		}
	})
}
