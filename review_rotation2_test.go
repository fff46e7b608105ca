package keycard

import (
	"errors"
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
