package keycard

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

func TestDevicesListAndRevocation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	ctx := context.Background()
	var alice []*client
	for range 3 {
		c := f.client()
		c.get("/login?u=alice")
		alice = append(alice, c)
	}
	bob := f.client()
	bob.get("/login?u=bob")

	infos, err := f.m.Sessions(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 3 {
		t.Fatalf("got %d sessions for alice, want 3", len(infos))
	}
	for _, in := range infos {
		if in.UserID != "alice" || in.Created.IsZero() || in.IP == "" || !validHash(in.Hash) {
			t.Errorf("incomplete session info %+v", in)
		}
		for _, c := range alice {
			if in.Hash == c.cookie {
				t.Error("a session listing exposes a cookie value")
			}
		}
	}

	if err := f.m.Revoke(ctx, f.hashOf(alice[0].cookie)); err != nil {
		t.Fatal(err)
	}
	if got := alice[0].get("/user"); got != "" {
		t.Errorf("revoked session still reads user %q", got)
	}
	if got := alice[1].get("/user"); got != "alice" {
		t.Errorf("revoking one device logged out another: %q", got)
	}
	if err := f.m.Revoke(ctx, "not-a-hash"); err == nil {
		t.Error("Revoke accepted a malformed hash")
	}

	n, err := f.m.RevokeUser(ctx, "alice")
	if err != nil || n != 2 {
		t.Fatalf("RevokeUser: got %d, %v; want 2, nil", n, err)
	}
	for _, c := range alice {
		if got := c.get("/user"); got != "" {
			t.Errorf("after log-out-everywhere a device reads %q", got)
		}
	}
	if got := bob.get("/user"); got != "bob" {
		t.Errorf("another user's session was revoked: %q", got)
	}
	if !f.events.has(event.Destroyed, event.ReasonRevoke) {
		t.Error("no revoke event")
	}
}

// plainStore hides the memory store's capabilities.
type plainStore struct{ store.Store }

func TestUserOperationsNeedAUserIndex(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Store: plainStore{newCountingStore()}})
	if _, err := f.m.Sessions(context.Background(), "alice"); !errors.Is(err, store.ErrUnsupported) {
		t.Errorf("Sessions: got %v, want store.ErrUnsupported", err)
	}
	if _, err := f.m.RevokeUser(context.Background(), "alice"); !errors.Is(err, store.ErrUnsupported) {
		t.Errorf("RevokeUser: got %v, want store.ErrUnsupported", err)
	}
}

func TestRevokeOthersKeepsTheCurrentSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	var others []*client
	for range 2 {
		c := f.client()
		c.get("/login?u=alice")
		others = append(others, c)
	}
	me := f.client()
	me.get("/login?u=alice")
	f.mux.HandleFunc("/password", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		n, err := f.m.RevokeOthers(r.Context(), s)
		if err != nil || n != 2 {
			t.Errorf("RevokeOthers: got %d, %v; want 2, nil", n, err)
		}
		if err := f.m.Renew(r.Context(), s); err != nil {
			t.Error(err)
		}
	})
	me.get("/password")
	if got := me.get("/user"); got != "alice" {
		t.Errorf("the current session was revoked: %q", got)
	}
	for _, c := range others {
		if got := c.get("/user"); got != "" {
			t.Errorf("another device survived: %q", got)
		}
	}
	// "Log out everywhere" then signing in again in the same request works.
	f.mux.HandleFunc("/everywhere", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		f.m.RevokeUser(r.Context(), "alice")
		if err := f.m.Login(r.Context(), s, "alice"); err != nil {
			t.Errorf("Login after RevokeUser: %v", err)
		}
	})
	me.get("/everywhere")
	if got := me.get("/user"); got != "alice" {
		t.Errorf("after RevokeUser and Login: got %q, want alice", got)
	}
}

func TestLogoutCanClearSiteData(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		f := newFixture(t, Config{Cookie: Cookie{ClearSiteData: on}})
		c := f.client()
		c.get("/login?u=alice")
		got := c.do("GET", "/logout").Header().Get("Clear-Site-Data")
		if want := map[bool]string{true: `"cookies"`}[on]; got != want {
			t.Errorf("ClearSiteData %v: got header %q, want %q", on, got, want)
		}
	}
}

func TestSignedInResponsesAreNotCached(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/put?k=a&v=1")
	if got := c.do("GET", "/get?k=a").Header().Get("Cache-Control"); got != "" {
		t.Errorf("an anonymous read got Cache-Control %q; want none set by Keycard", got)
	}
	c.get("/login?u=alice")
	if got := c.do("GET", "/user").Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("a signed-in read got Cache-Control %q, want no-store", got)
	}
	if !f.events.has(event.Renewed, event.ReasonLogin) {
		t.Fatal("no login event")
	}
	for _, e := range f.events.events {
		if e.Time.Location() != time.UTC {
			t.Fatalf("event time %v is not UTC", e.Time)
		}
	}
}
