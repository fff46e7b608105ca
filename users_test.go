package keycard

import (
	"context"
	"errors"
	"testing"

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
	if !f.events.has(EventDestroyed, ReasonRevoke) {
		t.Error("no revoke event")
	}
}

// plainStore hides the memory store's capabilities.
type plainStore struct{ store.Store }

func TestUserOperationsNeedAUserIndex(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Store: plainStore{newCountingStore()}})
	if _, err := f.m.Sessions(context.Background(), "alice"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Sessions: got %v, want ErrUnsupported", err)
	}
	if _, err := f.m.RevokeUser(context.Background(), "alice"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("RevokeUser: got %v, want ErrUnsupported", err)
	}
}
