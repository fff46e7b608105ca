package demo

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

// #18: revoking another device and logging out everywhere need a sign-in
// within stepUpMaxAge. Past it, the demo asks for the password again (the
// sign-in page in re-authentication mode, for the same user), then goes
// back to the devices page, where the action now passes.
func TestStepUpGuardsDeviceActions(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		srv := newServer(t, st)
		laptop, phone := newClient(t, srv.URL), newClient(t, srv.URL)
		phone.ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1"
		laptop.submit("/", "/cart/add", url.Values{"product": {"tea"}})
		laptop.login("alice", "alice-wonderland", false)
		phone.login("alice", "alice-wonderland", false)
		ageSignIns(t, st, "alice", stepUpMaxAge+time.Minute)

		_, body := laptop.get("/devices")
		var phoneHash string
		for _, h := range sessionField.FindAllStringSubmatch(body, -1) {
			if !strings.HasPrefix(h[1], hashOf(body)) {
				phoneHash = h[1]
			}
		}
		resp, _ := laptop.submit("/devices", "/devices/revoke", url.Values{"session": {phoneHash}})
		wantStatus(t, resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/login?reauth=1" {
			t.Fatalf("revoking another device with an old sign-in went to %q, want /login?reauth=1", loc)
		}
		if resp, _ := phone.get("/profile"); resp.StatusCode != http.StatusOK {
			t.Fatal("the phone was revoked without a recent sign-in")
		}
		_, body = laptop.follow(resp)
		wantContains(t, body, "Confirm it is you", `name="reauth" value="1"`, `readonly value="alice"`,
			"needs a sign-in within the last 5 min, and yours was 6 min ago")
		if strings.Contains(body, `name="remember"`) {
			t.Error("the re-authentication form offers remember-me")
		}

		// A wrong password fails as at sign-in; the form stays in
		// re-authentication mode.
		resp, body = laptop.submit("/login?reauth=1", "/login", url.Values{"password": {"guess"}})
		wantStatus(t, resp, http.StatusUnauthorized)
		wantContains(t, body, "Wrong user name or password.", "Confirm it is you")

		// The posted name does not matter: it is the session's user who
		// re-authenticates, with their own password.
		resp, _ = laptop.submit("/login?reauth=1", "/login", url.Values{"username": {"bob"}, "password": {"bob-can-fix-it"}})
		wantStatus(t, resp, http.StatusUnauthorized)

		before := hashOf(body)
		resp, _ = laptop.submit("/login?reauth=1", "/login", url.Values{"password": {"alice-wonderland"}})
		wantStatus(t, resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/devices" {
			t.Fatalf("after re-authenticating: redirected to %q, want /devices (keycard.ReturnTo)", loc)
		}
		_, body = laptop.follow(resp)
		wantContains(t, body, "Password confirmed, Alice Liddell")
		if after := hashOf(body); after == before {
			t.Error("re-authenticating kept the session ID")
		}
		_, body = laptop.get("/")
		wantContains(t, body, "1 × Green tea")

		resp, _ = laptop.submit("/devices", "/devices/revoke", url.Values{"session": {phoneHash}})
		_, body = laptop.follow(resp)
		wantContains(t, body, "Signed out Safari on iPhone")
		if resp, _ := phone.get("/profile"); resp.StatusCode != http.StatusSeeOther {
			t.Error("the phone is still signed in after the revoke")
		}

		// Log out everywhere, the same way.
		phone.login("alice", "alice-wonderland", false)
		ageSignIns(t, st, "alice", stepUpMaxAge+time.Minute)
		resp, _ = laptop.submit("/devices", "/devices/revoke-all", nil)
		if loc := resp.Header.Get("Location"); loc != "/login?reauth=1" {
			t.Fatalf("log out everywhere with an old sign-in went to %q, want /login?reauth=1", loc)
		}
		if resp, _ := phone.get("/profile"); resp.StatusCode != http.StatusOK {
			t.Fatal("the phone was signed out without a recent sign-in")
		}
		resp, _ = laptop.submit("/login?reauth=1", "/login", url.Values{"password": {"alice-wonderland"}})
		if loc := resp.Header.Get("Location"); loc != "/devices" {
			t.Fatalf("after re-authenticating: redirected to %q, want /devices", loc)
		}
		resp, _ = laptop.submit("/devices", "/devices/revoke-all", nil)
		_, body = laptop.follow(resp)
		wantContains(t, body, "Signed out everywhere: this browser and 1 other session(s)")

		// Signing out this very device needs no recent sign-in.
		laptop.login("alice", "alice-wonderland", false)
		ageSignIns(t, st, "alice", stepUpMaxAge+time.Minute)
		_, body = laptop.get("/devices")
		resp, _ = laptop.submit("/devices", "/devices/revoke", url.Values{"session": {sessionField.FindStringSubmatch(body)[1]}})
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("signing out this device with an old sign-in went to %q, want /", loc)
		}
	})
}
