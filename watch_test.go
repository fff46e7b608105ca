package keycard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// watchFixture adds /watch to f: it opens a Watch on the request's
// session and hands it to the test through got.
func watchFixture(t *testing.T, f *fixture) chan *Watch {
	got := make(chan *Watch, 16)
	f.mux.HandleFunc("/watch", func(w http.ResponseWriter, r *http.Request) {
		wt, err := f.m.Watch(FromContext(r.Context()))
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		got <- wt
	})
	return got
}

// isDone reports whether w's channel is closed.
func isDone(w *Watch) bool {
	select {
	case <-w.Done():
		return true
	default:
		return false
	}
}

// A logout on the Watch's own instance ends it at once, without waiting
// for a check of the store; other sessions' Watches stay open.
func TestWatchEndsAtOnceOnThisInstance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{})
		watch := watchFixture(t, f)
		alice, bob := f.client(), f.client()
		alice.get("/login?u=alice")
		bob.get("/login?u=bob")
		alice.get("/watch")
		alice.get("/watch")
		bob.get("/watch")
		a1, a2, b := <-watch, <-watch, <-watch
		defer b.Stop()
		loads := f.st.loads.Load()
		alice.get("/logout")
		synctest.Wait()
		if !isDone(a1) || !isDone(a2) || !errors.Is(watchErr(a1), ErrSessionGone) {
			t.Fatalf("after logout: done %t %t, err %v; want both ended with ErrSessionGone", isDone(a1), isDone(a2), watchErr(a1))
		}
		if isDone(b) || watchErr(b) != nil {
			t.Error("another user's Watch ended")
		}
		if n := f.st.loads.Load() - loads; n != 1 {
			t.Errorf("the logout and the end of its Watches made %d loads, want 1 (the logout's own)", n)
		}
		if _, err := f.m.RevokeUser(t.Context(), "bob"); err != nil {
			t.Fatal(err)
		}
		if !isDone(b) {
			t.Error("RevokeUser did not end bob's Watch at once")
		}
	})
}

// A revoke from another instance (another Manager over the same store) is
// seen within WatchEvery, at the cost of one load per session per
// WatchEvery whatever the number of connections.
func TestWatchSeesAnotherInstanceWithinWatchEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newCountingStore()
		f := newFixture(t, Config{Store: st, WatchEvery: 10 * time.Second})
		other, err := New(Config{Store: st, Keys: []Key{testKey(1)}})
		if err != nil {
			t.Fatal(err)
		}
		watch := watchFixture(t, f)
		c := f.client()
		c.get("/login?u=alice")
		var ws []*Watch
		for range 100 {
			c.get("/watch")
			ws = append(ws, <-watch)
		}
		st.reset()
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := st.loads.Load(); n < 6 || n > 7 {
			t.Errorf("100 Watches of one session made %d loads in a minute, want 6 or 7 (one per WatchEvery, spread)", n)
		}
		if err := other.Revoke(t.Context(), f.hashOf(c.cookie)); err != nil {
			t.Fatal(err)
		}
		if isDone(ws[0]) {
			t.Fatal("a Watch ended before any check could see another instance's revoke")
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		for i, w := range ws {
			if !isDone(w) || !errors.Is(watchErr(w), ErrSessionGone) {
				t.Fatalf("Watch %d: not ended one WatchEvery after a revoke elsewhere (err %v)", i, watchErr(w))
			}
		}
	})
}

// A Watch ends when its session expires from inactivity; Active keeps the
// session alive, with one touch per tenth of the idle timeout, until its
// absolute deadline.
func TestWatchExpiryAndActivity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &countingStore{Store: memory.New(memory.Config{}), failErr: errDown}
		f := newFixture(t, Config{Store: st, Timeouts: Timeouts{Idle: 10 * time.Minute, Absolute: time.Hour}})
		watch := watchFixture(t, f)
		idle, busy := f.client(), f.client()
		idle.get("/login?u=idle")
		busy.get("/login?u=busy")
		idle.get("/watch")
		wi := <-watch
		busy.get("/watch")
		wb := <-watch
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Second):
					wb.Active()
				}
			}
		}()
		time.Sleep(10*time.Minute + time.Second)
		synctest.Wait()
		if !isDone(wi) {
			t.Error("an idle session's Watch outlived its idle timeout")
		}
		if isDone(wb) {
			t.Fatalf("an active connection's session expired after 10 minutes: %v", watchErr(wb))
		}
		// A touch is due a tenth of the idle timeout (a minute) after the
		// last, and made at the first check after that: every 60 to 75 s.
		if n := st.touches.Load(); n < 7 || n > 10 {
			t.Errorf("10 minutes of activity made %d touches, want 7 to 10 (one per tenth of the idle timeout, at the next check)", n)
		}
		time.Sleep(50 * time.Minute)
		synctest.Wait()
		if !isDone(wb) {
			t.Error("activity kept a session past its absolute deadline")
		}
		close(stop)
		if got := busy.get("/user"); got != "" {
			t.Errorf("the session outlived its absolute deadline: %q", got)
		}
	})
}

// A rotation on this instance is followed at once; a rotation elsewhere is
// followed at the next check; a login as another user ends the Watch.
func TestWatchFollowsRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Timeouts: Timeouts{Idle: time.Hour, Absolute: 8 * time.Hour},
			RotateEvery: 15 * time.Minute, RotationGrace: 30 * time.Second, WatchEvery: 10 * time.Second})
		watch := watchFixture(t, f)
		c := f.client()
		c.get("/login?u=alice")
		c.get("/watch")
		w := <-watch
		defer w.Stop()
		time.Sleep(16 * time.Minute)
		c.get("/user") // rotates
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if isDone(w) {
			t.Fatalf("a rotation ended the Watch: %v", watchErr(w))
		}
		c.get("/logout")
		synctest.Wait()
		if !isDone(w) {
			t.Error("a logout after a rotation did not end the Watch")
		}
		d := f.client()
		d.get("/put?k=a&v=1")
		d.get("/watch")
		anon := <-watch
		d.get("/login?u=bob")
		synctest.Wait()
		if !isDone(anon) {
			t.Error("a login as a user did not end the anonymous session's Watch")
		}
	})
}

func TestWatchNeedsAStoredSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	watchFixture(t, f)
	if w := f.client().do("GET", "/watch"); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), ErrSessionGone.Error()) {
		t.Errorf("Watch of a new session: got %d %q, want the handler's error with ErrSessionGone", w.Code, w.Body.String())
	}
	m, err := New(Config{Sealed: true, Keys: []Key{testKey(1)}})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Put("a", 1)
		if _, err := m.Watch(s); !errors.Is(err, store.ErrUnsupported) {
			t.Errorf("Watch of a sealed session: got %v, want store.ErrUnsupported", err)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// secondCounter counts the loads of a store per second of (bubble) time.
type secondCounter struct {
	store.Store
	start time.Time
	mu    sync.Mutex
	loads map[int]int
}

func (c *secondCounter) Load(ctx context.Context, key string) (*store.Record, error) {
	c.mu.Lock()
	c.loads[int(time.Since(c.start)/time.Second)]++
	c.mu.Unlock()
	return c.Store.Load(ctx, key)
}

// 10,000 connections over 1,000 sessions, all opened at once, cost one
// load per session per WatchEvery, spread over the interval: no second
// sees a wave of checks.
func TestWatchesOfManySessionsAreSpread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &secondCounter{Store: memory.New(memory.Config{}), loads: map[int]int{}}
		f := newFixture(t, Config{Store: st})
		watch := make(chan *Watch, 10_000)
		f.mux.HandleFunc("/watch", func(w http.ResponseWriter, r *http.Request) {
			wt, err := f.m.Watch(FromContext(r.Context()))
			if err != nil {
				t.Error(err)
				return
			}
			watch <- wt
		})
		const sessions, perSession = 1000, 10
		for i := range sessions {
			c := f.client()
			c.get(fmt.Sprint("/login?u=u", i))
			for range perSession {
				c.get("/watch")
			}
		}
		st.mu.Lock()
		st.start, st.loads = time.Now(), map[int]int{}
		st.mu.Unlock()
		time.Sleep(time.Minute)
		synctest.Wait()
		close(watch)
		for w := range watch {
			w.Stop()
		}
		total, peak := 0, 0
		for sec, n := range st.loads {
			if sec < 60 {
				total += n
				peak = max(peak, n)
			}
		}
		// 4 checks a minute (every 13.5 to 15 s) per session.
		if total < 4*sessions || total > 5*sessions {
			t.Errorf("%d Watches of %d sessions made %d loads in a minute, want %d to %d", sessions*perSession, sessions, total, 4*sessions, 5*sessions)
		}
		if mean := total / 60; peak > 3*mean {
			t.Errorf("the busiest second had %d loads against a mean of %d: the checks come in waves", peak, mean)
		}
		t.Logf("%d loads in a minute, busiest second %d", total, peak)
	})
}

// While the store fails, a Watch stays open until its session's expiry as
// last seen, then ends: an unconfirmed session does not outlive it.
func TestWatchEndsPastExpiryWhileTheStoreFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Timeouts: Timeouts{Idle: 10 * time.Minute, Absolute: time.Hour}})
		watch := watchFixture(t, f)
		c := f.client()
		c.get("/login?u=alice")
		c.get("/watch")
		w := <-watch
		defer w.Stop()
		f.st.fail.Store(true)
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if isDone(w) {
			t.Fatal("a failing store ended a Watch before its session's expiry")
		}
		time.Sleep(6 * time.Minute)
		synctest.Wait()
		if !isDone(w) {
			t.Error("a Watch outlived its session's expiry while the store failed")
		}
	})
}

// watchErr returns why w's Done closed, or nil while it is open.
func watchErr(w *Watch) error {
	w.ws.mu.Lock()
	defer w.ws.mu.Unlock()
	return w.err
}
