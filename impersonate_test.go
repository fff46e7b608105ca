package keycard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// impersonationFixture adds /as?u= (impersonate for an hour), /unas (end
// it) and /actor to f.
func impersonationFixture(t *testing.T, f *fixture) {
	f.mux.HandleFunc("/as", func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.Impersonate(r.Context(), FromContext(r.Context()), r.URL.Query().Get("u"), time.Hour); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
		}
	})
	f.mux.HandleFunc("/unas", func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.EndImpersonation(r.Context(), FromContext(r.Context())); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
		}
	})
	f.mux.HandleFunc("/actor", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).Info().Actor))
	})
}

func TestImpersonationRecordsTheActorAndRestoresTheirSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Timeouts: Timeouts{Idle: 30 * time.Minute, Absolute: 8 * time.Hour}})
		impersonationFixture(t, f)
		c := f.client()
		c.get("/login?u=alice")
		c.get("/put?k=cart&v=tea")
		own := c.cookie
		if w := c.do("GET", "/as?u=bob"); w.Code != http.StatusOK {
			t.Fatalf("Impersonate: %d %s", w.Code, w.Body)
		}
		if c.cookie == own || c.get("/user") != "bob" || c.get("/actor") != "alice" || c.get("/get?k=cart") != "" {
			t.Fatalf("impersonating: user %q, actor %q, cart %q; want bob, alice, none of alice's values, on a new cookie",
				c.get("/user"), c.get("/actor"), c.get("/get?k=cart"))
		}
		if !f.events.has(event.Impersonation, event.ReasonLogin) {
			t.Error("no impersonation start event")
		}
		if w := c.do("GET", "/as?u=carol"); w.Code != http.StatusForbidden {
			t.Error("an impersonation inside an impersonation was allowed")
		}
		// The actor's own session outlives its idle timeout while set aside.
		time.Sleep(25 * time.Minute)
		c.get("/user") // the impersonation is in use; the actor's session is not
		time.Sleep(25 * time.Minute)
		if w := c.do("GET", "/unas"); w.Code != http.StatusOK {
			t.Fatalf("EndImpersonation: %d %s", w.Code, w.Body)
		}
		if c.cookie != own || c.get("/user") != "alice" || c.get("/get?k=cart") != "tea" || c.get("/actor") != "" {
			t.Errorf("after the end: user %q, cart %q, own cookie %t; want alice's own session back", c.get("/user"), c.get("/get?k=cart"), c.cookie == own)
		}
		if !f.events.has(event.Impersonation, event.ReasonLogout) {
			t.Error("no impersonation end event")
		}
		if w := c.do("GET", "/unas"); w.Code != http.StatusConflict {
			t.Error("EndImpersonation of a session that is not one succeeded")
		}
	})
}

// An impersonation ends at its cap, and no StepUp passes inside it.
func TestImpersonationIsCappedAndNeverRecent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Timeouts: Timeouts{Idle: 8 * time.Hour, Absolute: 24 * time.Hour}})
		impersonationFixture(t, f)
		reached := 0
		f.mux.Handle("/danger", StepUp{Reauth: http.NotFoundHandler()}.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached++ })))
		c := f.client()
		c.get("/login?u=alice")
		c.get("/danger")
		c.get("/as?u=bob")
		c.get("/danger")
		if reached != 1 {
			t.Errorf("a StepUp passed inside an impersonation (reached %d times, want 1: the actor's own)", reached)
		}
		time.Sleep(time.Hour + time.Second)
		if got := c.get("/user"); got != "" {
			t.Errorf("an impersonation outlived its cap: user %q", got)
		}
	})
}

func TestImpersonateNeedsASignedInActor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	impersonationFixture(t, f)
	c := f.client()
	c.get("/put?k=a&v=1")
	if w := c.do("GET", "/as?u=bob"); w.Code != http.StatusForbidden {
		t.Errorf("an anonymous session impersonated: %d", w.Code)
	}
	m := f.m
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.EndImpersonation(r.Context(), FromContext(r.Context())); !errors.Is(err, ErrNotImpersonating) {
			t.Errorf("EndImpersonation of a new session: got %v, want ErrNotImpersonating", err)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// Revoking the actor (log out everywhere, an account disabled) ends their
// impersonations at the next request; Clear keeps the actor on record; a
// sign-in of its own ends an impersonation.
func TestImpersonationEndsWithItsActor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	impersonationFixture(t, f)
	f.mux.HandleFunc("/clear", func(w http.ResponseWriter, r *http.Request) { FromContext(r.Context()).Clear() })
	c := f.client()
	c.get("/login?u=alice")
	c.get("/as?u=bob")
	c.get("/clear")
	if got := c.get("/actor"); got != "alice" {
		t.Errorf("after Clear inside an impersonation: actor %q, want alice", got)
	}
	if _, err := f.m.RevokeUser(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	if got := c.get("/user"); got != "" {
		t.Errorf("an impersonation outlived the revocation of its actor: user %q", got)
	}

	d := f.client()
	d.get("/login?u=carol")
	d.get("/as?u=bob")
	d.get("/login?u=bob")
	if got := d.get("/actor"); got != "" {
		t.Errorf("a sign-in as bob inside the impersonation kept actor %q", got)
	}
}

// saveFails is a store whose creates fail, to make Impersonate fail after
// it started the new session.
type saveFails struct{ *countingStore }

func (s saveFails) Save(ctx context.Context, key string, rec *store.Record) error {
	if rec.Version == 0 && rec.UserID == "bob" {
		return errDown
	}
	return s.countingStore.Save(ctx, key, rec)
}

// A failed Impersonate leaves the actor's session as it was: the commit
// stores no half-made impersonation and the client keeps its cookie.
func TestFailedImpersonationChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Store: saveFails{newCountingStore()}})
	impersonationFixture(t, f)
	c := f.client()
	c.get("/login?u=alice")
	own := c.cookie
	if w := c.do("GET", "/as?u=bob"); w.Code != http.StatusForbidden {
		t.Fatalf("Impersonate over a failing store: got %d, want the handler's error", w.Code)
	}
	if c.cookie != own || c.get("/user") != "alice" || c.get("/actor") != "" {
		t.Errorf("after a failed impersonation: user %q, actor %q, own cookie %t; want alice's own session", c.get("/user"), c.get("/actor"), c.cookie == own)
	}
}
