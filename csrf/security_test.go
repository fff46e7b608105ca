package csrf_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
)

// S-31: a CSRF token never passes for a session cookie. Presented as the
// session cookie, it is rejected before any store call (it has the wrong
// shape), the request is anonymous, and the token does not work as a
// CSRF token for the fresh session either.
func TestCSRFTokenIsNotASessionCookie(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	b := a.browser(t)
	b.do(formReq("/login", url.Values{"csrf_token": {b.token()}}))
	tok := b.token()
	if res := b.do(req("GET", "/whoami", nil)); res.body != "alice" {
		t.Fatalf("control: whoami = %q", res.body)
	}
	for _, r := range []*http.Request{req("GET", "/whoami", nil), req("POST", "/submit", nil, "X-CSRF-Token: "+tok)} {
		r.Header.Set("Cookie", keycard.DefaultCookieName+"="+tok)
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, r)
		if w.Code == http.StatusOK && r.Method == "GET" && w.Body.String() != "" {
			t.Errorf("a CSRF token as the session cookie authenticated %q", w.Body.String())
		}
		if r.Method == "POST" && w.Code != http.StatusForbidden {
			t.Errorf("a CSRF token as the session cookie and as the token: %d, want 403", w.Code)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rejected := 0
	for _, ev := range a.events {
		if ev.Kind == event.Rejected && ev.Reason == event.ReasonMalformed {
			rejected++
		}
	}
	if rejected != 2 {
		t.Errorf("%d malformed-cookie events, want 2", rejected)
	}
}

// S-62: every rejection looks the same to the client, whatever the
// reason (cross-origin, no token, no secret, a bad token, another
// session's token, a token from before login): the same status, the same
// body, and the same header fields with the same values, so a client
// cannot tell which check failed. The one difference is Vary: Cookie,
// which the Manager adds when the session was read: rejections by the
// token check carry it, rejections by the origin check (decided from the
// request's own Sec-Fetch-Site and Origin, before the session is read) do
// not. That tells the client only what it sent; docs/SECURITY.md lists it.
func TestRejectionsAreUniform(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	fresh := a.browser(t)
	b := a.browser(t)
	stale := b.token()
	b.do(formReq("/login", url.Values{"csrf_token": {stale}}))
	b.token()
	other := a.browser(t).token()
	cases := map[string]*http.Request{
		"cross-site":                   req("POST", "/submit", nil, "Sec-Fetch-Site: cross-site", "Origin: https://evil.example"),
		"same-site":                    req("POST", "/submit", nil, "Sec-Fetch-Site: same-site", "Origin: https://sub.example.com"),
		"Origin only, wrong host":      req("POST", "/submit", nil, "Origin: https://app.example.com.evil.net"),
		"no token":                     req("POST", "/submit", nil),
		"another session's token":      req("POST", "/submit", nil, "X-CSRF-Token: "+other),
		"a token from before login":    req("POST", "/submit", nil, "X-CSRF-Token: "+stale),
		"garbage token":                req("POST", "/submit", nil, "X-CSRF-Token: garbage"),
		"JSON as text/plain":           req("POST", "/echo", strings.NewReader(`{"a":1}`), "Content-Type: text/plain"),
		"token only in the query":      req("POST", "/submit?csrf_token="+other, nil),
		"first visit, someone's token": nil, // sent by a browser without a session
	}
	type outcome struct {
		code   int
		body   string
		header http.Header
	}
	var first *outcome
	var firstName string
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		r := cases[name]
		br := b
		if r == nil {
			r, br = req("POST", "/submit", nil, "X-CSRF-Token: "+other), fresh
		}
		w := httptest.NewRecorder()
		for _, c := range br.jar.Cookies(siteURL) {
			r.AddCookie(c)
		}
		a.h.ServeHTTP(w, r)
		h := w.Header().Clone()
		h.Del("Date")
		vary := h.Values("Vary")
		h.Del("Vary")
		if want := []string{"Cookie"}; !slices.Equal(vary, want) {
			t.Errorf("%s: Vary %q, want %q on every refusal", name, vary, want)
		}
		got := &outcome{w.Code, w.Body.String(), h}
		if got.code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, got.code)
		}
		for _, word := range []string{"token", "origin", "csrf", "secret", "session"} {
			if strings.Contains(strings.ToLower(got.body), word) {
				t.Errorf("%s: the body %q names the check (%q)", name, got.body, word)
			}
		}
		if first == nil {
			first, firstName = got, name
			continue
		}
		if got.body != first.body || !maps.EqualFunc(got.header, first.header, slices.Equal) {
			t.Errorf("%s answers %q %v; %s answers %q %v", name, got.body, got.header, firstName, first.body, first.header)
		}
	}
}
