package rptest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/oidc"
	"github.com/keycard-go/keycard/store"
)

// backChannelEvent is the logout token's event member.
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutClaims returns the claims of a valid logout token of p for sid
// (and sub, if not ""), with a fresh jti.
func logoutClaims(p *provider, sub, sid string) map[string]any {
	c := map[string]any{
		"iss":    p.URL,
		"aud":    clientID,
		"iat":    time.Now().Unix(),
		"exp":    time.Now().Add(2 * time.Minute).Unix(),
		"jti":    rand26(),
		"events": map[string]any{backChannelEvent: map[string]any{}},
	}
	if sub != "" {
		c["sub"] = sub
	}
	if sid != "" {
		c["sid"] = sid
	}
	return c
}

// logoutToken signs claims with the provider's own key, typed logout+jwt.
func logoutToken(t *testing.T, p *provider, claims map[string]any) string {
	key, kid := p.signingKey(t)
	return sign(t, key, kid, "logout+jwt", claims)
}

// backChannel posts a logout token to a's back-channel logout endpoint as
// the provider does: server to server, no cookie, no anti-forgery token.
func backChannel(t *testing.T, a *app, tok string) (*http.Response, string) {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, a.URL+"/oidc/backchannel-logout", strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return (&browser{t: t, c: http.DefaultClient}).do(r)
}

// A back-channel logout naming a provider session ends the application
// sessions signed in with it, and nothing else; one naming only the
// account ends every session that account signed in, but not the same
// user's session signed in by password. The endpoint works with CSRF
// protection installed as the documentation says: it is mounted beside
// it, and needs neither a cookie nor a token.
func TestBackChannelLogout(t *testing.T) {
	t.Parallel()
	p, apps := setup(t, 1, memoryStore)
	a := apps[0]
	laptop, phone, password := newBrowser(t), newBrowser(t), newBrowser(t)
	_, _, laptopSID := laptop.signIn(a, "/login")
	_, _, phoneSID := phone.signIn(a, "/login")
	password.post(a, "/password-login?user=user-"+subject, nil)
	if laptop.whoami(a).User == "" || phone.whoami(a).User == "" || password.whoami(a).User == "" {
		t.Fatal("setup: not all three sessions are signed in")
	}

	// CSRF protection is on: a cookieless POST without a token to a route
	// inside it is refused, while the back-channel endpoint beside it is
	// reached.
	r, _ := http.NewRequest(http.MethodPost, a.URL+"/logout", strings.NewReader("x=1"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, _ := (&browser{t: t, c: http.DefaultClient}).do(r); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a POST inside csrf without a token answered %d, want 403", res.StatusCode)
	}

	res, body := backChannel(t, a, logoutToken(t, p, logoutClaims(p, subject, laptopSID)))
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("back-channel logout: %d %q, Cache-Control %q; want 200, no-store", res.StatusCode, body, res.Header.Get("Cache-Control"))
	}
	if w := laptop.whoami(a); w.User != "" {
		t.Errorf("the laptop's session survived its provider session's logout: %q", w.User)
	}
	if phone.whoami(a).User == "" || password.whoami(a).User == "" {
		t.Fatal("a logout of one provider session ended other sessions")
	}

	res, _ = backChannel(t, a, logoutToken(t, p, logoutClaims(p, "nobody", "op-session-unknown")))
	if res.StatusCode != http.StatusOK || phone.whoami(a).User == "" {
		t.Fatalf("an unknown sid: %d, want 200 and no session ended", res.StatusCode)
	}

	res, _ = backChannel(t, a, logoutToken(t, p, logoutClaims(p, subject, "")))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("logout by subject: %d, want 200", res.StatusCode)
	}
	if w := phone.whoami(a); w.User != "" {
		t.Errorf("the phone's session survived its account's logout: %q", w.User)
	}
	if password.whoami(a).User == "" {
		t.Error("a logout of the provider account ended the user's password session")
	}
	_ = phoneSID
	if n := a.events.count(oidc.EventProviderLogout, oidc.ReasonBackChannel); n != 3 {
		t.Errorf("%d provider-logout events, want 3", n)
	}
}

// Revoking a session by back-channel logout ends its refresh tokens
// (package token keeps their state inside the session).
func TestBackChannelLogoutEndsRefreshTokens(t *testing.T) {
	t.Parallel()
	p, apps := setup(t, 1, memoryStore)
	a := apps[0]
	b := newBrowser(t)
	_, _, sid := b.signIn(a, "/login")
	_, body := b.post(a, "/api/tokens", nil)
	var pair struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(body), &pair); err != nil || pair.RefreshToken == "" {
		t.Fatalf("issuing tokens: %v: %s", err, body)
	}
	refresh := func() int {
		r, _ := http.NewRequest(http.MethodPost, a.URL+"/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pair.RefreshToken}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, body := (&browser{t: t, c: http.DefaultClient}).do(r)
		if res.StatusCode == http.StatusOK {
			json.Unmarshal([]byte(body), &pair)
		}
		return res.StatusCode
	}
	if code := refresh(); code != http.StatusOK {
		t.Fatalf("refresh before the logout: %d", code)
	}
	if res, _ := backChannel(t, a, logoutToken(t, p, logoutClaims(p, "", sid))); res.StatusCode != http.StatusOK {
		t.Fatalf("back-channel logout: %d", res.StatusCode)
	}
	if code := refresh(); code != http.StatusBadRequest {
		t.Fatalf("refresh after the back-channel logout: %d, want 400 (invalid_grant)", code)
	}
}

// Every malformed, forged, mistyped or replayed logout token is refused
// with 400 and no-store, and ends no session.
func TestBackChannelLogoutRefusals(t *testing.T) {
	t.Parallel()
	p, apps := setup(t, 1, memoryStore)
	a := apps[0]
	b := newBrowser(t)
	_, _, sid := b.signIn(a, "/login")
	key, kid := p.signingKey(t)
	otherKey := mustRSAKey(t)
	with := func(edit func(c map[string]any)) string {
		c := logoutClaims(p, subject, sid)
		edit(c)
		return sign(t, key, kid, "logout+jwt", c)
	}
	for _, tc := range []struct{ name, token string }{
		{"with a nonce", with(func(c map[string]any) { c["nonce"] = "n" })},
		{"typed JWT", sign(t, key, kid, "JWT", logoutClaims(p, subject, sid))},
		{"untyped", sign(t, key, kid, "", logoutClaims(p, subject, sid))},
		{"typed as an access token", sign(t, key, kid, "at+jwt", logoutClaims(p, subject, sid))},
		{"without events", with(func(c map[string]any) { delete(c, "events") })},
		{"with another event", with(func(c map[string]any) { c["events"] = map[string]any{"urn:other": map[string]any{}} })},
		{"with the event not an object", with(func(c map[string]any) { c["events"] = map[string]any{backChannelEvent: true} })},
		{"without sub or sid", with(func(c map[string]any) { delete(c, "sub"); delete(c, "sid") })},
		{"without jti", with(func(c map[string]any) { delete(c, "jti") })},
		{"without iat", with(func(c map[string]any) { delete(c, "iat") })},
		{"without exp", with(func(c map[string]any) { delete(c, "exp") })},
		{"expired", with(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Second).Unix() })},
		{"issued too long ago", with(func(c map[string]any) { c["iat"] = time.Now().Add(-10 * time.Minute).Unix() })},
		{"issued in the future", with(func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() })},
		{"for another audience", with(func(c map[string]any) { c["aud"] = "another-client" })},
		{"of another issuer", with(func(c map[string]any) { c["iss"] = "https://evil.example" })},
		{"signed by another key", sign(t, otherKey, kid, "logout+jwt", logoutClaims(p, subject, sid))},
		{"unsigned", unsigned(logoutClaims(p, subject, sid))},
		{"an ID token", idTokenLike(t, p, sid)},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := backChannel(t, a, tc.token)
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Cache-Control") != "no-store" || !strings.Contains(body, "invalid_request") {
				t.Fatalf("got %d %q (Cache-Control %q), want 400 invalid_request, no-store", res.StatusCode, body, res.Header.Get("Cache-Control"))
			}
			if b.whoami(a).User == "" {
				t.Fatal("a refused logout token ended the session")
			}
		})
	}
	t.Run("in the URL, not the body", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodPost, a.URL+"/oidc/backchannel-logout?logout_token="+logoutToken(t, p, logoutClaims(p, "", sid)), nil)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res, _ := (&browser{t: t, c: http.DefaultClient}).do(r); res.StatusCode != http.StatusBadRequest || b.whoami(a).User == "" {
			t.Fatalf("got %d, want 400 and the session alive", res.StatusCode)
		}
	})
	t.Run("replayed", func(t *testing.T) {
		tok := logoutToken(t, p, logoutClaims(p, "", sid))
		if res, _ := backChannel(t, a, tok); res.StatusCode != http.StatusOK || b.whoami(a).User != "" {
			t.Fatalf("first use: %d, want 200 and the session ended", res.StatusCode)
		}
		b.signIn(a, "/login") // a new session, with a new provider session
		if res, _ := backChannel(t, a, tok); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("replay: %d, want 400", res.StatusCode)
		}
	})
	if n := a.events.count(oidc.EventRejected, oidc.ReasonBackChannel); n < 22 {
		t.Errorf("%d rejected logout events, want one per refusal", n)
	}
}

// idTokenLike returns an ID token of p for sid, signed by p's key: it has
// a nonce and no events, so it cannot pass for a logout token.
func idTokenLike(t *testing.T, p *provider, sid string) string {
	c := logoutClaims(p, subject, sid)
	delete(c, "events")
	c["nonce"] = "n"
	key, kid := p.signingKey(t)
	return sign(t, key, kid, "JWT", c)
}

// The front-channel logout URI ends the sessions of the provider session
// its iss and sid name, without any cookie (the provider's iframe gets
// none), and refuses requests for another issuer or without a sid.
func TestFrontChannelLogout(t *testing.T) {
	t.Parallel()
	p, apps := setup(t, 1, memoryStore)
	a := apps[0]
	b, other := newBrowser(t), newBrowser(t)
	_, _, sid := b.signIn(a, "/login")
	other.signIn(a, "/login")
	frame := newBrowser(t) // the provider's page: no cookie of the application
	for _, tc := range []struct {
		name  string
		query url.Values
		want  int
	}{
		{"another issuer", url.Values{"iss": {"https://evil.example"}, "sid": {sid}}, http.StatusBadRequest},
		{"no sid", url.Values{"iss": {p.URL}}, http.StatusBadRequest},
		{"two sids", url.Values{"iss": {p.URL}, "sid": {sid, sid}}, http.StatusBadRequest},
		{"an unknown sid", url.Values{"iss": {p.URL}, "sid": {"op-session-unknown"}}, http.StatusOK},
	} {
		res, _ := frame.get(a.URL + "/oidc/frontchannel-logout?" + tc.query.Encode())
		if res.StatusCode != tc.want || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d (Cache-Control %q), want %d, no-store", tc.name, res.StatusCode, res.Header.Get("Cache-Control"), tc.want)
		}
		if b.whoami(a).User == "" {
			t.Fatalf("%s ended the session", tc.name)
		}
	}
	res, _ := frame.get(a.URL + "/oidc/frontchannel-logout?" + url.Values{"iss": {p.URL}, "sid": {sid}}.Encode())
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("front-channel logout: %d, want 200, no-store", res.StatusCode)
	}
	if w := b.whoami(a); w.User != "" {
		t.Errorf("the session survived the front-channel logout of its provider session: %q", w.User)
	}
	if other.whoami(a).User == "" {
		t.Error("a front-channel logout ended another provider session's session")
	}
}

// Signing out logs the session out, sends the browser to the provider's
// end_session_endpoint with the ID token as hint, the registered
// post-logout redirect URI and a state, and the provider sends it back to
// the application, which checks the state and lands on the return path.
func TestSignOutAtTheProvider(t *testing.T) {
	t.Parallel()
	p, apps := setup(t, 1, memoryStore)
	a := apps[0]
	b := newBrowser(t)
	b.signIn(a, "/login")

	b.stopAt = "/end_session"
	res, _ := b.post(a, "/logout", url.Values{"return_to": {"/bye"}})
	b.stopAt = ""
	loc, err := res.Location()
	if res.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), p.URL+"/end_session?") {
		t.Fatalf("sign out: %d to %v, want 303 to the provider's end_session_endpoint", res.StatusCode, loc)
	}
	q := loc.Query()
	if q.Get("id_token_hint") == "" || q.Get("client_id") != clientID || q.Get("post_logout_redirect_uri") != a.URL+"/logged-out" || len(q.Get("state")) < 20 {
		t.Fatalf("end-session parameters %v", q)
	}
	if w := b.whoami(a); w.User != "" {
		t.Fatal("the session is still signed in after sign-out")
	}
	res, body := b.get(loc.String())
	if res.StatusCode != http.StatusOK || body != "bye" || res.Request.URL.Path != "/bye" {
		t.Fatalf("back from the provider: %d %q at %s, want the return path /bye", res.StatusCode, body, res.Request.URL)
	}

	// A state other than the one sent lands on the default page.
	b.signIn(a, "/login")
	b.stopAt = "/end_session"
	res, _ = b.post(a, "/logout", url.Values{"return_to": {"/bye"}})
	b.stopAt = ""
	loc, _ = res.Location()
	q = loc.Query()
	q.Set("state", "AAAAAAAAAAAAAAAAAAAAAAAAAA")
	loc.RawQuery = q.Encode()
	if res, body := b.get(loc.String()); body != "page /" {
		t.Fatalf("with another state: %d %q at %s, want the default page", res.StatusCode, body, res.Request.URL)
	}
}

// Provider logout works on every store with a user index, and a logout
// token replayed to another instance sharing the store is refused there.
func TestBackChannelLogoutOnEveryStore(t *testing.T) {
	t.Parallel()
	for _, bk := range backends() {
		t.Run(bk.name, func(t *testing.T) {
			t.Parallel()
			open := bk.setup(t)
			n := 2
			if bk.name == "memory" {
				n = 1
			}
			p, apps := setup(t, n, func(t *testing.T) store.Store { return open(t) })
			a, other := apps[0], apps[n-1]
			b1, b2 := newBrowser(t), newBrowser(t)
			_, _, sid1 := b1.signIn(a, "/login")
			b2.signIn(other, "/login")
			tok := logoutToken(t, p, logoutClaims(p, "", sid1))
			if res, _ := backChannel(t, other, tok); res.StatusCode != http.StatusOK {
				t.Fatalf("logout by sid: %d", res.StatusCode)
			}
			if b1.whoami(a).User != "" || b2.whoami(other).User == "" {
				t.Fatal("logout by sid did not end exactly its session")
			}
			if res, _ := backChannel(t, a, tok); res.StatusCode != http.StatusBadRequest {
				t.Fatalf("the same token on another instance: %d, want 400", res.StatusCode)
			}
			if res, _ := backChannel(t, a, logoutToken(t, p, logoutClaims(p, subject, ""))); res.StatusCode != http.StatusOK {
				t.Fatalf("logout by subject: %d", res.StatusCode)
			}
			if b2.whoami(other).User != "" {
				t.Fatal("logout by subject left a session")
			}
			if a.events.count(event.Destroyed, event.ReasonRevoke)+other.events.count(event.Destroyed, event.ReasonRevoke) < 2 {
				t.Error("no revocation events")
			}
		})
	}
}
