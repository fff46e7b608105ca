package reliability_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// These tests reproduce, deterministically, the races that the
// cross-instance workload keeps out of its default run, and one failure
// path of Update. Each was a library gap (docs/RELIABILITY.md, "Gaps found,
// and how they were closed"); each now passes, in every run.

// heldApp is an application whose /held/renew request loads its session,
// reports that on loaded, waits for release, and only then calls
// Manager.Renew: it lets a test run other requests between a renewal's
// load and its save.
type heldApp struct {
	*app
	loaded  chan struct{}
	release chan struct{}
}

func newHeldApp(t *testing.T, st store.Store) *heldApp {
	h := &heldApp{loaded: make(chan struct{}), release: make(chan struct{})}
	h.app = newApp(t, st, keycard.NewKey(), nil)
	mux := http.NewServeMux()
	mux.Handle("/", routes(h.m))
	mux.HandleFunc("/held/renew", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		s.Keys() // loads the session
		h.loaded <- struct{}{}
		<-h.release
		if err := h.m.Renew(r.Context(), s); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	h.h = h.m.Handler(mux)
	return h
}

// heldRenew starts a held renewal of cookie and waits until it has loaded
// the session; the returned channel gives its result once released.
func (h *heldApp) heldRenew(cookie string) <-chan result {
	out := make(chan result, 1)
	go func() { out <- serve(context.Background(), h.h, cookie, "/held/renew") }()
	<-h.loaded
	return out
}

// TestRenewRacingAWriteLosesIt: a write answered 200, with no sign that
// anything went wrong, is lost when a Renew of the same session that
// loaded before it saves after it. Renew creates the new record from its
// own copy and deletes the old one without checking that the old one is
// still the version it loaded (Periodic rotation, Config.RotateEvery, does
// check, and absorbs such writes).
func TestRenewRacingAWriteLosesIt(t *testing.T) {
	a := newHeldApp(t, memory.New(memory.Config{}))
	c1 := mustServe(t, a.h, "", "/login?u=alice&owner=alice").cookie
	renewed := a.heldRenew(c1)
	w := mustServe(t, a.h, c1, "/put?k=cart&v=book")
	if w.cookie != "" || w.expired {
		t.Fatalf("the write was answered with a cookie change: %+v", w)
	}
	close(a.release)
	r := <-renewed
	if r.code != http.StatusOK || r.cookie == "" {
		t.Fatalf("renew: %v", r)
	}
	d, _, err := readDump(context.Background(), a.h, r.cookie)
	if err != nil {
		t.Fatal(err)
	}
	if d.Vals["cart"] != "book" {
		t.Errorf("the write answered 200 during the renewal is gone: the renewed session holds %v", d.Vals)
	}
}

// TestConcurrentRenewsForkTheSession: two renewals of one session that
// overlap (a double-clicked login, two tabs) both succeed, each creating
// its own copy under its own ID; a logout then ends only the copy whose
// cookie the browser kept, and the other cookie still reads the logged-in
// session.
func TestConcurrentRenewsForkTheSession(t *testing.T) {
	a := newHeldApp(t, memory.New(memory.Config{}))
	c1 := mustServe(t, a.h, "", "/login?u=alice&owner=alice").cookie
	first := a.heldRenew(c1)
	second := a.heldRenew(c1)
	close(a.release)
	r1, r2 := <-first, <-second
	// One renewal wins; the other may fail (the session it loaded was
	// retired by the winner) but must not leave a second live copy.
	if r1.code != http.StatusOK && r2.code != http.StatusOK {
		t.Fatalf("renewals: %v, %v: neither succeeded", r1, r2)
	}
	winner, other := r1, r2
	if winner.code != http.StatusOK {
		winner, other = r2, r1
	}
	if other.code == http.StatusOK && other.cookie != "" {
		mustServe(t, a.h, winner.cookie, "/logout")
		winner = other // both claim success: the fork check below must hold anyway
	} else {
		mustServe(t, a.h, winner.cookie, "/logout")
	}
	survivor := r1.cookie
	if survivor == "" || survivor == winner.cookie {
		survivor = c1
	}
	d, _, err := readDump(context.Background(), a.h, survivor)
	if err != nil {
		t.Fatal(err)
	}
	if !d.New || d.User != "" {
		t.Errorf("after logout, the other renewal's cookie still reads the session of %q: %+v", d.User, d)
	}
}

// TestRenewRacingLogoutResurrectsTheSession: a renewal that loaded the
// session before a logout, and saves after the logout was answered,
// recreates the session, user and data, under a new ID whose cookie it
// sends: a logged-out session is live again.
func TestRenewRacingLogoutResurrectsTheSession(t *testing.T) {
	a := newHeldApp(t, memory.New(memory.Config{}))
	c1 := mustServe(t, a.h, "", "/login?u=alice&owner=alice").cookie
	renewed := a.heldRenew(c1)
	if out := mustServe(t, a.h, c1, "/logout"); !out.expired {
		t.Fatalf("logout did not expire the cookie: %+v", out)
	}
	close(a.release)
	r := <-renewed
	if r.code == http.StatusOK && r.cookie != "" {
		d, _, err := readDump(context.Background(), a.h, r.cookie)
		if err == nil && !d.New {
			t.Errorf("after a logout was answered, the racing renewal's cookie reads the session of %q: %+v", d.User, d)
		}
	}
}

// failOnce fails the next Save after arm with an error that is not a
// conflict, as a dropped connection would.
type failOnce struct {
	store.Store
	armed atomic.Bool
}

var errInjected = errors.New("injected store failure")

func (f *failOnce) Save(ctx context.Context, key string, rec *store.Record) error {
	if f.armed.CompareAndSwap(true, false) {
		return errInjected
	}
	return f.Store.Save(ctx, key, rec)
}

// TestFailedUpdateIsNotSavedLater: when Update's save fails with a store
// error, Update returns the error and the handler answers with an error,
// but the new value stays pending in the session, and the commit at the
// end of the request saves it if the store answers again. A client told
// that its increment failed, and retrying it, counts twice.
func TestFailedUpdateIsNotSavedLater(t *testing.T) {
	st := &failOnce{Store: memory.New(memory.Config{})}
	a := newApp(t, st, keycard.NewKey(), func(c *keycard.Config) { c.Logger = slog.New(&logCounter{}) })
	cookie := mustServe(t, a.h, "", "/login?u=alice&owner=alice").cookie
	st.armed.Store(true)
	res := serve(context.Background(), a.h, cookie, "/count")
	if res.code == http.StatusOK {
		t.Fatalf("the increment whose save failed was answered %v", res)
	}
	d, _, err := readDump(context.Background(), a.h, cookie)
	if err != nil {
		t.Fatal(err)
	}
	if d.Counter != 0 {
		t.Errorf("the increment was answered %d (%q) but the counter is %d: the failed Update was saved", res.code, res.body, d.Counter)
	}
}
