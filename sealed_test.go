package keycard

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

func newSealedFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	cfg.Sealed = true
	cfg.Store = nil
	f := &fixture{t: t, events: &eventLog{}, mux: http.NewServeMux()}
	if cfg.Keys == nil {
		cfg.Keys = []Key{testKey(1)}
	}
	cfg.OnEvent = f.events.add
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	base := newFixture(t, Config{}) // borrow its routes
	f.mux = base.mux
	base.m = m
	f.h = m.Handler(f.mux)
	return f
}

func TestSealedSessionsKeepEverythingInTheCookie(t *testing.T) {
	t.Parallel()
	f := newSealedFixture(t, Config{})
	c := f.client()
	c.get("/put?k=a&v=1")
	first := c.cookie
	if got := c.get("/get?k=a"); got != "1" {
		t.Fatalf("got %q, want 1", got)
	}
	c.get("/login?u=alice")
	if got := c.get("/user"); got != "alice" {
		t.Fatalf("got user %q", got)
	}
	if c.cookie == first {
		t.Error("the cookie did not change when the session did")
	}
	if strings.Contains(c.cookie, "alice") {
		t.Error("the sealed cookie shows its contents")
	}
	// Tampering with any character is refused.
	for i := 0; i < len(c.cookie); i += 7 {
		b := []byte(c.cookie)
		b[i] = "AB"[b[i]%2]
		if got := (&client{f: f, cookie: string(b)}).get("/user"); got != "" {
			t.Fatalf("a tampered sealed cookie (char %d) read user %q", i, got)
		}
	}
	// A sealed cookie is not a signed-ID cookie, and vice versa.
	other := newFixture(t, Config{})
	if got := (&client{f: other, cookie: c.cookie}).get("/user"); got != "" {
		t.Error("a sealed value was accepted as a signed ID")
	}
	if _, err := f.m.Sessions(context.Background(), "alice"); !errors.Is(err, store.ErrUnsupported) {
		t.Errorf("Sessions in sealed mode: got %v, want store.ErrUnsupported", err)
	}
	c.get("/logout")
	if c.cookie != "" {
		t.Error("logout did not expire the sealed cookie")
	}
}

func TestSealedSessionsRefuseWhatTheCookieCannotHold(t *testing.T) {
	t.Parallel()
	f := newSealedFixture(t, Config{})
	f.mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if err := s.Put("big", strings.Repeat("x", 3000)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("3000 bytes in a sealed session: got %v, want ErrTooLarge", err)
		}
		if err := s.Put("ok", strings.Repeat("x", 2000)); err != nil {
			t.Errorf("2000 bytes in a sealed session: %v", err)
		}
	})
	w := f.client().do("GET", "/big")
	if sc := sessionCookie(w.Result(), "__Host-keycard"); sc == nil || len(sc.Name)+1+len(sc.Value) > 4096 {
		t.Errorf("sealed cookie missing or over 4096 bytes")
	}
}

func TestSealedSessionsExpireOnTheServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newSealedFixture(t, Config{Timeouts: Timeouts{Idle: 10 * time.Minute, Absolute: time.Hour}})
		c := f.client()
		c.get("/put?k=a&v=1")
		replay := c.cookie
		time.Sleep(10*time.Minute + time.Second)
		if got := (&client{f: f, cookie: replay}).get("/get?k=a"); got != "" {
			t.Errorf("a sealed cookie replayed past its idle deadline read %q", got)
		}
		if !f.events.has(event.Expired, event.ReasonIdle) {
			t.Error("no idle-timeout event")
		}
	})
}

func TestRevokedBeforeEndsSealedSessions(t *testing.T) {
	t.Parallel()
	var cutoff atomic.Int64
	f := newSealedFixture(t, Config{RevokedBefore: func(ctx context.Context, user string) (time.Time, error) {
		if user == "down" {
			return time.Time{}, errors.New("user table unavailable")
		}
		return time.Unix(0, cutoff.Load()), nil
	}})
	c := f.client()
	c.get("/login?u=alice")
	captured := c.cookie
	cutoff.Store(time.Now().Add(time.Second).UnixNano()) // "log out everywhere"
	if got := (&client{f: f, cookie: captured}).get("/user"); got != "" {
		t.Errorf("a session from before the cutoff still reads %q", got)
	}
	if !f.events.has(event.Destroyed, event.ReasonRevoke) {
		t.Error("no revoke event")
	}
	d := f.client()
	d.get("/login?u=down")
	if w := d.do("GET", "/user"); w.Code != http.StatusServiceUnavailable {
		t.Errorf("RevokedBefore failing: got %d, want 503 (fail closed)", w.Code)
	}
}

func TestSealedConfigConflicts(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{Sealed: true, Store: newCountingStore()}); err == nil {
		t.Error("Sealed with a Store was accepted")
	}
	if _, err := New(Config{Sealed: true, Header: "X-Token"}); err == nil {
		t.Error("Sealed with a header carrier was accepted")
	}
}
