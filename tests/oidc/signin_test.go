package rptest

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/oidc"
)

// A visitor with a cart signs in at the real provider: the session gets a
// new ID (the old cookie is dead), keeps the cart, is bound to the user
// MapUser chose, records who signed in, and lands on the return path.
func TestSignInRegeneratesTheSession(t *testing.T) {
	t.Parallel()
	p, apps := setup(t, 1, memoryStore)
	a := apps[0]
	b := newBrowser(t)
	b.get(a.URL + "/cart/add?item=tea")
	before := b.cookie(a)
	if before == "" {
		t.Fatal("no session cookie before signing in")
	}

	res, body, sid := b.signIn(a, "/login?return_to=/cart%3Fstep%3D2")
	if res.StatusCode != http.StatusOK || body != "page /cart?step=2" {
		t.Fatalf("after the callback: %d %q, want 200 on the return path /cart?step=2", res.StatusCode, body)
	}
	after := b.cookie(a)
	if after == before || after == "" {
		t.Fatal("the session ID did not change at sign-in")
	}
	w := b.whoami(a)
	if w.User != "user-"+subject || !slices.Equal(w.Cart, []string{"tea"}) {
		t.Fatalf("signed in as %q with cart %q, want user-%s with [tea]", w.User, w.Cart, subject)
	}
	id := w.Identity
	if id == nil || id.Issuer != p.URL || id.Subject != subject || id.SessionID != sid || !slices.Equal(id.AMR, []string{"pwd"}) {
		t.Fatalf("identity %+v, want issuer %s, subject %s, sid %s, amr [pwd]", id, p.URL, subject, sid)
	}
	if age := time.Since(id.AuthTime); age < -time.Minute || age > time.Minute {
		t.Errorf("auth_time %v is not the sign-in's", id.AuthTime)
	}

	// The cookie from before the sign-in names no session any more.
	old := newBrowser(t)
	old.jar.SetCookies(mustURL(a.URL), []*http.Cookie{{Name: "session", Value: before}})
	if w := old.whoami(a); w.User != "" || len(w.Cart) != 0 {
		t.Errorf("the pre-sign-in cookie still reads user %q, cart %q", w.User, w.Cart)
	}
	if n := a.events.count(event.Renewed, event.ReasonLogin); n != 1 {
		t.Errorf("%d login renewals, want 1", n)
	}
}

// Every way of presenting a callback that is not the one this browser's
// sign-in expects is refused, and leaves the session signed out.
func TestCallbackRefusals(t *testing.T) {
	t.Parallel()
	p, apps := setup(t, 1, memoryStore)
	a := apps[0]
	key, kid := p.signingKey(t)
	resign := func(mutate func(claims map[string]any)) func(h, c map[string]any) string {
		return func(_, c map[string]any) string {
			mutate(c)
			return sign(t, key, kid, "JWT", c)
		}
	}
	otherKey := mustRSAKey(t)
	for _, tc := range []struct {
		name   string
		tamper func(h, c map[string]any) string
		edit   func(q map[string][]string)
		want   string
	}{
		{name: "control: the provider's token signed again unchanged is accepted", tamper: resign(func(map[string]any) {}), want: ""},
		{name: "unknown state", edit: func(q map[string][]string) { q["state"] = []string{"AAAAAAAAAAAAAAAAAAAAAAAAAA"} }, want: "state"},
		{name: "no state", edit: func(q map[string][]string) { delete(q, "state") }, want: "state"},
		{name: "two states", edit: func(q map[string][]string) { q["state"] = append(q["state"], q["state"][0]) }, want: "state"},
		{name: "an iss parameter naming another issuer", edit: func(q map[string][]string) { q["iss"] = []string{"https://evil.example"} }, want: "state"},
		{name: "the provider's error", edit: func(q map[string][]string) { delete(q, "code"); q["error"] = []string{"access_denied"} }, want: "provider"},
		{name: "an unknown code", edit: func(q map[string][]string) { q["code"] = []string{"forged"} }, want: "exchange"},
		{name: "wrong nonce", tamper: resign(func(c map[string]any) { c["nonce"] = "another-nonce" }), want: "id-token"},
		{name: "no nonce", tamper: resign(func(c map[string]any) { delete(c, "nonce") }), want: "id-token"},
		{name: "wrong audience", tamper: resign(func(c map[string]any) { c["aud"] = []string{"another-client"} }), want: "id-token"},
		{name: "a second audience without azp", tamper: resign(func(c map[string]any) { c["aud"] = []string{clientID, "another-client"}; delete(c, "azp") }), want: "id-token"},
		{name: "another authorized party", tamper: resign(func(c map[string]any) { c["azp"] = "another-client" }), want: "id-token"},
		{name: "wrong issuer", tamper: resign(func(c map[string]any) { c["iss"] = "https://evil.example" }), want: "id-token"},
		{name: "expired", tamper: resign(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), want: "id-token"},
		{name: "issued in the future", tamper: resign(func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }), want: "id-token"},
		{name: "at_hash of another access token", tamper: resign(func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }), want: "id-token"},
		{name: "no subject", tamper: resign(func(c map[string]any) { delete(c, "sub") }), want: "id-token"},
		{name: "signed by another key", tamper: func(_, c map[string]any) string { return sign(t, otherKey, kid, "JWT", c) }, want: "id-token"},
		{name: "unsigned (alg none)", tamper: func(_, c map[string]any) string { return unsigned(c) }, want: "id-token"},
		{name: "not a JWT", tamper: func(_, _ map[string]any) string { return "not-a-jwt" }, want: "id-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t)
			cb, _ := b.authorize(a, "/login")
			if tc.tamper != nil {
				a.tamper.set(t, tc.tamper)
			}
			if tc.edit != nil {
				q := cb.Query()
				tc.edit(q)
				cb.RawQuery = urlValues(q).Encode()
			}
			res, body := b.get(cb.String())
			if tc.want == "" {
				if res.StatusCode != http.StatusOK || b.whoami(a).User == "" {
					t.Fatalf("got %d %q, want signed in", res.StatusCode, body)
				}
				return
			}
			if res.StatusCode != http.StatusBadRequest || body != "refused: "+tc.want+"\n" {
				t.Fatalf("got %d %q, want 400 %q", res.StatusCode, body, "refused: "+tc.want)
			}
			if w := b.whoami(a); w.User != "" || w.Identity != nil {
				t.Fatalf("after a refused callback the session is signed in as %q", w.User)
			}
		})
	}
	if n := a.events.count(oidc.EventRejected, oidc.ReasonCallback); n < 19 {
		t.Errorf("%d rejected-callback events, want one per refusal", n)
	}
}

// A state works once, in the browser that started the sign-in, and a code
// works once.
func TestStateAndCodeAreSingleUse(t *testing.T) {
	t.Parallel()
	_, apps := setup(t, 1, memoryStore)
	a := apps[0]

	t.Run("another browser's callback is refused and leaves the sign-in to its owner", func(t *testing.T) {
		victim, attacker := newBrowser(t), newBrowser(t)
		attacker.get(a.URL + "/cart/add?item=x") // the attacker has a session of its own
		cb, _ := victim.authorize(a, "/login")
		if res, body := attacker.get(cb.String()); res.StatusCode != http.StatusBadRequest || body != "refused: state\n" {
			t.Fatalf("another browser's callback: %d %q, want 400 refused: state", res.StatusCode, body)
		}
		if w := attacker.whoami(a); w.User != "" {
			t.Fatalf("the other browser is signed in as %q", w.User)
		}
		if res, _ := victim.get(cb.String()); res.StatusCode != http.StatusOK || victim.whoami(a).User == "" {
			t.Fatalf("the owner could not complete its sign-in afterwards: %d", res.StatusCode)
		}
	})
	t.Run("a callback replayed after the sign-in is refused", func(t *testing.T) {
		b := newBrowser(t)
		cb, _ := b.authorize(a, "/login")
		b.get(cb.String())
		before := b.cookie(a)
		if res, body := b.get(cb.String()); res.StatusCode != http.StatusBadRequest || body != "refused: state\n" {
			t.Fatalf("replayed callback: %d %q, want 400 refused: state", res.StatusCode, body)
		}
		if b.cookie(a) != before || b.whoami(a).User == "" {
			t.Fatal("a replayed callback changed the signed-in session")
		}
	})
	t.Run("a used code under a fresh state is refused by the provider", func(t *testing.T) {
		b := newBrowser(t)
		first, _ := b.authorize(a, "/login")
		b.get(first.String())
		second, _ := b.authorize(a, "/login")
		q := second.Query()
		q.Set("code", first.Query().Get("code"))
		second.RawQuery = q.Encode()
		if res, body := b.get(second.String()); res.StatusCode != http.StatusBadRequest || body != "refused: exchange\n" {
			t.Fatalf("a used code: %d %q, want 400 refused: exchange", res.StatusCode, body)
		}
	})
	t.Run("two sign-ins in two tabs both complete", func(t *testing.T) {
		b := newBrowser(t)
		tab1, _ := b.authorize(a, "/login?return_to=/one")
		tab2, _ := b.authorize(a, "/login?return_to=/two")
		if _, body := b.get(tab2.String()); body != "page /two" {
			t.Fatalf("second tab: %q", body)
		}
		// The login dropped the other sign-in in progress with the rest
		// of the login-scoped values: the first tab must start again.
		if res, body := b.get(tab1.String()); res.StatusCode != http.StatusBadRequest || body != "refused: state\n" {
			t.Fatalf("first tab after the second signed in: %d %q", res.StatusCode, body)
		}
	})
}

// AuthOptions.MaxAge and ACRValues ask the provider for a recent or strong
// authentication, and the callback refuses an ID token that does not show
// one.
func TestStepUpChecksTheIDToken(t *testing.T) {
	t.Parallel()
	p, apps := setup(t, 1, memoryStore)
	a := apps[0]
	for _, tc := range []struct {
		name, path, acr string
		age             time.Duration
		want            string
	}{
		{"a fresh authentication within max_age", "/step-up?max_age=300&return_to=/admin", "", 0, "page /admin"},
		{"an authentication older than max_age", "/step-up?max_age=300", "", time.Hour, "refused: auth-level\n"},
		{"the requested acr", "/step-up?acr=urn:mfa,urn:hwk&return_to=/admin", "urn:hwk", 0, "page /admin"},
		{"another acr", "/step-up?acr=urn:mfa", "urn:pwd", 0, "refused: auth-level\n"},
		{"no acr", "/step-up?acr=urn:mfa", "", 0, "refused: auth-level\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.storage.setAuth(t, tc.acr, tc.age)
			b := newBrowser(t)
			_, body, _ := b.signIn(a, tc.path)
			if body != tc.want {
				t.Fatalf("got %q, want %q", body, tc.want)
			}
			if w := b.whoami(a); tc.want[0] == 'p' && (w.Identity == nil || w.Identity.ACR != tc.acr) {
				t.Fatalf("identity %+v, want acr %q", w.Identity, tc.acr)
			}
		})
	}
}
