package demo

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/keycard-go/keycard/store"
)

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// #18: the support user acts as Alice from the profile page's form. Every
// page shows "Acting as Alice Liddell on behalf of Sam Support" with a
// button that ends it; the device actions behind StepUp refuse; Keycard
// logs the start and the end with the actor; ending it brings back the
// support user's own session. Customers get no such form, nor may post it.
func TestImpersonation(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		log := new(lockedBuffer)
		srv := newServerLogging(t, st, log)
		support, alice := newClient(t, srv.URL), newClient(t, srv.URL)
		alice.login("alice", "alice-wonderland", false)
		_, body := alice.get("/profile")
		if strings.Contains(body, `action="/impersonate"`) {
			t.Error("a customer's profile page offers impersonation")
		}
		resp, _ := alice.post("/impersonate", url.Values{"user": {"bob"}, "csrf_token": {formToken(t, body, "/profile/renew")}})
		wantStatus(t, resp, http.StatusForbidden)

		resp, _ = support.login("support", "support-on-duty", false)
		_, body = support.follow(resp)
		own := hashOf(body)
		resp, _ = support.submit("/profile", "/impersonate", url.Values{"user": {"alice"}})
		wantStatus(t, resp, http.StatusSeeOther)
		const marker = "Acting as <strong>Alice Liddell</strong> on behalf of <strong>Sam Support</strong>"
		for _, page := range []string{"/", "/profile", "/devices", "/api", "/sealed/"} {
			_, body = support.get(page)
			wantContains(t, body, marker, `action="/impersonate/end"`)
		}
		if strings.Contains(body, `action="/impersonate"`) {
			t.Error("an impersonation offers to impersonate again")
		}
		_, body = alice.get("/")
		if strings.Contains(body, "Acting as") {
			t.Error("Alice's own session shows the impersonation marker")
		}
		if got := log.String(); !strings.Contains(got, "event=impersonation") || !strings.Contains(got, "actor=support") || !strings.Contains(got, "user=alice") {
			t.Errorf("no impersonation event with its actor in the log:\n%s", got)
		}

		// The device actions need a recent sign-in of the user: never in
		// an impersonation.
		resp, _ = support.submit("/devices", "/devices/revoke-all", nil)
		_, body = support.follow(resp)
		wantContains(t, body, "Not while acting as another user")
		if resp, _ := alice.get("/profile"); resp.StatusCode != http.StatusOK {
			t.Error("Alice was signed out from an impersonation")
		}

		resp, _ = support.submit("/", "/impersonate/end", nil)
		_, body = support.follow(resp)
		wantContains(t, body, "Stopped acting as Alice Liddell. Welcome back to your own session, Sam Support.", "Support: act as a customer")
		if strings.Contains(body, "Acting as") {
			t.Error("the marker outlived the impersonation")
		}
		if h := hashOf(body); h != own {
			t.Errorf("after the impersonation: session %s, want the support user's own %s back", h, own)
		}
		if n := strings.Count(log.String(), "event=impersonation"); n != 2 {
			t.Errorf("%d impersonation events logged, want the start and the end:\n%s", n, log.String())
		}
	})
}
