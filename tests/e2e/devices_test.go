package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// Alice signs in on two browsers. From A's devices page she revokes B's
// session; B's next page load is anonymous, and A stays signed in.
func TestDevicesRevokeOtherBrowser(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	a := newBrowser(t, d, "A")
	b := newBrowser(t, d, "B")

	a.login("alice", "alice-wonderland", "Alice Liddell", false)
	b.openOK("/")
	b.addToCart("croissant")
	b.login("alice", "alice-wonderland", "Alice Liddell", true)

	a.openOK("/devices")
	rows := a.count("table.devices tbody tr")
	current := a.count("table.devices tbody tr.current")
	if rows != 2 || current != 1 {
		t.Fatalf("devices page of A: %d sessions, %d marked current; want 2 and 1", rows, current)
	}
	if r := a.count("table.devices tbody tr:not(.current) .badge.quiet"); r != 1 {
		t.Errorf("B's remembered session shows %d remembered badges, want 1", r)
	}
	a.screenshot("devices-two-browsers")

	bHash := a.text("table.devices tbody tr:not(.current) td code")
	a.submitOK("revoke B's session", `table.devices tbody tr:not(.current) form[action="/devices/revoke"] button`)
	if p := a.path(); p != "/devices" {
		t.Errorf("after revoking: A is at %s, want /devices", p)
	}
	if f := a.flashes(); !containsAny(f, "Signed out") || !containsAny(f, strings.TrimSuffix(bHash, "…")) {
		t.Errorf("flashes after revoking %s: %q", bHash, f)
	}
	if rows := a.count("table.devices tbody tr"); rows != 1 {
		t.Errorf("devices page of A after revoking B: %d sessions, want 1", rows)
	}
	if u := a.user(); u != "Alice Liddell" {
		t.Errorf("A after revoking B: signed in as %q, want Alice Liddell", u)
	}

	// B's next page load: anonymous, with none of the revoked session's
	// data, and the devices page sends it to sign in.
	b.openOK("/")
	if u := b.user(); u != "" {
		t.Errorf("B after being revoked: signed in as %q, want anonymous", u)
	}
	if c := b.cart(); len(c) != 0 {
		t.Errorf("B after being revoked: cart %q, want empty", c)
	}
	b.openOK("/devices")
	if p := b.path(); p != "/login" {
		t.Errorf("B after being revoked: /devices went to %s, want /login", p)
	}

	// A carries on.
	a.openOK("/devices")
	if u := a.user(); u != "Alice Liddell" {
		t.Errorf("A: signed in as %q, want Alice Liddell", u)
	}
}

// Alice is signed in on two browsers and through the token API, Bob through
// the token API. "Log out everywhere" on A ends all of Alice's sessions and
// none of Bob's.
func TestDevicesLogOutEverywhere(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	a := newBrowser(t, d, "A")
	b := newBrowser(t, d, "B")
	a.login("alice", "alice-wonderland", "Alice Liddell", false)
	b.login("alice", "alice-wonderland", "Alice Liddell", false)
	api := newAPIClient(t, d)
	alice := api.token("alice", "alice-wonderland")
	bob := api.token("bob", "bob-can-fix-it")

	a.openOK("/devices")
	if rows := a.count("table.devices tbody tr"); rows != 3 {
		t.Fatalf("devices page of A: %d sessions, want 3 (two browsers, one API client)", rows)
	}
	a.submitOK("log out everywhere", `form[action="/devices/revoke-all"] button`)
	if p := a.path(); p != "/" {
		t.Errorf("after logging out everywhere: A is at %s, want /", p)
	}
	if f := a.flashes(); !containsAny(f, "Signed out everywhere: this browser and 2 other session(s) of Alice Liddell") {
		t.Errorf("flashes after logging out everywhere: %q", f)
	}
	if u := a.user(); u != "" {
		t.Errorf("A after logging out everywhere: signed in as %q", u)
	}
	a.screenshot("log-out-everywhere")

	for _, x := range []*browser{a, b} {
		x.openOK("/profile")
		if p, u := x.path(), x.user(); p != "/login" || u != "" {
			t.Errorf("browser %s after logging out everywhere: /profile went to %s as %q, want /login, anonymous", x.name, p, u)
		}
	}
	if code, _ := api.me(alice.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("Alice's access token after logging out everywhere: /api/me status %d, want 401", code)
	}
	if code, _ := api.refresh(alice.RefreshToken); code != http.StatusBadRequest {
		t.Errorf("Alice's refresh token after logging out everywhere: status %d, want 400", code)
	}
	if code, me := api.me(bob.AccessToken); code != http.StatusOK || me.User != "bob" {
		t.Errorf("Bob's access token after Alice logged out everywhere: status %d, user %q; want 200, bob", code, me.User)
	}
}
