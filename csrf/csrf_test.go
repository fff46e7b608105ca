package csrf_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

func TestTokenCheck(t *testing.T) {
	t.Parallel()
	// Each case gets a browser that has loaded a form (so its session has
	// a secret) and a token of its own, plus a token of another session.
	tests := []struct {
		name   string
		req    func(own, other string) *http.Request
		want   int
		reason event.Reason // of the rejection, if any
	}{
		{"POST without a token is rejected", func(own, other string) *http.Request {
			return formReq("/submit", url.Values{"text": {"hi"}})
		}, 403, csrf.ReasonMissingToken},
		{"another session's token is rejected", func(own, other string) *http.Request {
			return formReq("/submit", url.Values{"csrf_token": {other}})
		}, 403, csrf.ReasonBadToken},
		{"another session's token in the header is rejected", func(own, other string) *http.Request {
			return req("POST", "/submit", nil, "X-CSRF-Token: "+other)
		}, 403, csrf.ReasonBadToken},
		{"a token only in the query is rejected", func(own, other string) *http.Request {
			return formReq("/submit?csrf_token="+own, url.Values{"text": {"hi"}})
		}, 403, csrf.ReasonMissingToken},
		{"a token only in the query of a bodiless POST is rejected", func(own, other string) *http.Request {
			return req("POST", "/submit?csrf_token="+own, nil)
		}, 403, csrf.ReasonMissingToken},
		{"a token in a cookie is rejected", func(own, other string) *http.Request {
			r := req("POST", "/submit", nil)
			r.AddCookie(&http.Cookie{Name: "csrf_token", Value: own})
			return r
		}, 403, csrf.ReasonMissingToken},
		{"a malformed token is rejected", func(own, other string) *http.Request {
			return formReq("/submit", url.Values{"csrf_token": {own[:len(own)-1] + "!"}})
		}, 403, csrf.ReasonBadToken},
		{"a truncated token is rejected", func(own, other string) *http.Request {
			return req("POST", "/submit", nil, "X-CSRF-Token: "+own[:43])
		}, 403, csrf.ReasonBadToken},
		{"the unmasked secret is rejected", func(own, other string) *http.Request {
			// The second half alone, or the pad alone, is not a token.
			return req("POST", "/submit", nil, "X-CSRF-Token: "+own[43:]+own[43:])
		}, 403, csrf.ReasonBadToken},
		{"a masked token in the form is accepted", func(own, other string) *http.Request {
			return formReq("/submit", url.Values{"csrf_token": {own}, "text": {"hi"}})
		}, 200, ""},
		{"a masked token in the header is accepted", func(own, other string) *http.Request {
			return req("POST", "/submit", nil, "X-CSRF-Token: "+own)
		}, 200, ""},
		{"the header wins over the form", func(own, other string) *http.Request {
			return formReq("/submit", url.Values{"csrf_token": {own}}, "X-CSRF-Token: "+other)
		}, 403, csrf.ReasonBadToken},
		{"PUT needs a token", func(own, other string) *http.Request {
			return req("PUT", "/submit", nil)
		}, 403, csrf.ReasonMissingToken},
		{"PUT with a token is accepted", func(own, other string) *http.Request {
			return req("PUT", "/submit", nil, "X-CSRF-Token: "+own)
		}, 200, ""},
		{"PATCH needs a token", func(own, other string) *http.Request {
			return req("PATCH", "/submit", nil)
		}, 403, csrf.ReasonMissingToken},
		{"DELETE needs a token", func(own, other string) *http.Request {
			return req("DELETE", "/submit", nil)
		}, 403, csrf.ReasonMissingToken},
		{"DELETE with a token is accepted", func(own, other string) *http.Request {
			return req("DELETE", "/submit", nil, "X-CSRF-Token: "+own)
		}, 200, ""},
		{"an unknown method needs a token", func(own, other string) *http.Request {
			return req("PROPPATCH", "/submit", nil)
		}, 403, csrf.ReasonMissingToken},
		{"JSON sent as text/plain without a token is rejected", func(own, other string) *http.Request {
			return req("POST", "/echo", strings.NewReader(`{"amount":100}`), "Content-Type: text/plain")
		}, 403, csrf.ReasonMissingToken},
		{"a token inside a JSON body is not looked for", func(own, other string) *http.Request {
			return req("POST", "/echo", strings.NewReader(`{"csrf_token":"`+own+`"}`), "Content-Type: application/json")
		}, 403, csrf.ReasonMissingToken},
		{"a form field of a JSON body is not looked for", func(own, other string) *http.Request {
			return req("POST", "/echo", strings.NewReader("csrf_token="+own), "Content-Type: application/json")
		}, 403, csrf.ReasonMissingToken},
	}
	a := newApp(t, csrf.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := a.browser(t)
			own, other := b.token(), a.browser(t).token()
			before := a.writes.Load()
			res := b.do(tt.req(own, other))
			wantCode(t, res, tt.want)
			if tt.want == 403 {
				if got := a.writes.Load(); got != before {
					t.Errorf("a rejected request ran a handler")
				}
				if len(res.cookies) != 0 {
					t.Errorf("a rejected request set cookies: %v", res.cookies)
				}
			}
		})
	}
	// Reasons are checked one at a time, on an app of their own.
	for _, tt := range tests {
		if tt.reason == "" {
			continue
		}
		t.Run("reason/"+tt.name, func(t *testing.T) {
			a := newApp(t, csrf.Config{})
			b := a.browser(t)
			own, other := b.token(), a.browser(t).token()
			a.csrfEvents()
			b.do(tt.req(own, other))
			a.wantReason(t, tt.reason)
		})
	}
}

func TestMaskedTokens(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	b := a.browser(t)
	t1, t2 := b.token(), b.token()
	if t1 == t2 {
		t.Fatalf("two tokens of one session are both %q; want masking to make them differ", t1)
	}
	if len(t1) != 86 || len(t2) != 86 {
		t.Errorf("token lengths %d and %d, want 86", len(t1), len(t2))
	}
	for _, tok := range []string{t1, t2, t1} {
		wantCode(t, b.do(formReq("/submit", url.Values{"csrf_token": {tok}})), 200)
	}
	a.wantNoEvents(t)
}

func TestLoginRotatesTokens(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	b := a.browser(t)
	before := b.token()
	wantCode(t, b.do(formReq("/login", url.Values{"csrf_token": {before}})), 200)
	if got := b.do(req("GET", "/whoami", nil)).body; got != "alice" {
		t.Fatalf("logged in as %q, want alice", got)
	}

	res := b.do(formReq("/submit", url.Values{"csrf_token": {before}}))
	wantCode(t, res, 403)
	ev := a.wantReason(t, csrf.ReasonNoSecret)
	if ev.UserID != "alice" || ev.Session == "" {
		t.Errorf("event names user %q session %q, want alice and a session", ev.UserID, ev.Session)
	}

	after := b.token()
	wantCode(t, b.do(formReq("/submit", url.Values{"csrf_token": {after}})), 200)
	wantCode(t, b.do(formReq("/submit", url.Values{"csrf_token": {before}})), 403)
	a.wantReason(t, csrf.ReasonBadToken)
}

func TestSafeMethodsNeedNoToken(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	for _, method := range []string{"GET", "HEAD", "OPTIONS", "TRACE"} {
		for _, sfs := range []string{"", "cross-site"} {
			t.Run(method+" "+sfs, func(t *testing.T) {
				b := a.browser(t)
				r := req(method, "/plain", nil, "Origin: https://evil.example")
				if sfs != "" {
					r.Header.Set("Sec-Fetch-Site", sfs)
				}
				res := b.do(r)
				wantCode(t, res, 200)
				if len(res.cookies) != 0 {
					t.Errorf("%s created a session: %v", method, res.cookies)
				}
			})
		}
	}
	a.wantNoEvents(t)

	t.Run("a GET that renders a visitor's token sets only the visitor cookie", func(t *testing.T) {
		b := a.browser(t)
		res := b.do(req("GET", "/form", nil))
		wantCode(t, res, 200)
		if len(res.cookies) != 1 || res.cookies[0].Name != csrf.VisitorCookieName {
			t.Errorf("got cookies %v, want the visitor cookie alone", res.cookies)
		}
	})
}

func TestBodies(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{MaxFormBytes: 1024})
	b := a.browser(t)
	tok := b.token()

	t.Run("a JSON body with the header token reaches the handler whole", func(t *testing.T) {
		body := `{"amount":100}`
		res := b.do(req("POST", "/echo", strings.NewReader(body), "Content-Type: application/json", "X-CSRF-Token: "+tok))
		wantCode(t, res, 200)
		if res.body != body+"|" {
			t.Errorf("handler read %q, want %q", res.body, body+"|")
		}
	})
	t.Run("a form with the header token is left for the handler", func(t *testing.T) {
		res := b.do(formReq("/echo", url.Values{"text": {"hello"}}, "X-CSRF-Token: "+tok))
		wantCode(t, res, 200)
		if res.body != "text=hello|" {
			t.Errorf("handler read %q, want the unread body", res.body)
		}
	})
	t.Run("a form read for its token is still there for the handler", func(t *testing.T) {
		res := b.do(formReq("/echo", url.Values{"text": {"hello"}, "csrf_token": {tok}}))
		wantCode(t, res, 200)
		if res.body != "|hello" {
			t.Errorf("handler read %q, want the parsed form", res.body)
		}
	})
	t.Run("a multipart form with the token is accepted and readable", func(t *testing.T) {
		res := b.do(multipartReq(t, "/upload", map[string]string{"csrf_token": tok, "text": "hi"}, "file body"))
		wantCode(t, res, 200)
		if res.body != "hi|file body" {
			t.Errorf("handler read %q, want hi|file body", res.body)
		}
	})
	t.Run("a multipart form without the token is rejected", func(t *testing.T) {
		wantCode(t, b.do(multipartReq(t, "/upload", map[string]string{"text": "hi"}, "x")), 403)
	})
	a.csrfEvents()
	t.Run("a form past MaxFormBytes is rejected", func(t *testing.T) {
		res := b.do(formReq("/submit", url.Values{"pad": {strings.Repeat("x", 2000)}, "csrf_token": {tok}}))
		wantCode(t, res, 403)
		ev := a.wantReason(t, csrf.ReasonMissingToken)
		var tooLarge *http.MaxBytesError
		if !errors.As(ev.Err, &tooLarge) || !errors.Is(ev.Err, csrf.ErrMissingToken) {
			t.Errorf("event error %v, want ErrMissingToken and a MaxBytesError", ev.Err)
		}
	})
	t.Run("a multipart form past MaxFormBytes is rejected", func(t *testing.T) {
		res := b.do(multipartReq(t, "/upload", map[string]string{"csrf_token": tok}, strings.Repeat("x", 2000)))
		wantCode(t, res, 403)
		a.wantReason(t, csrf.ReasonMissingToken)
	})
	t.Run("a big body with the header token is not limited", func(t *testing.T) {
		body := strings.Repeat("x", 4000)
		res := b.do(req("POST", "/echo", strings.NewReader(body), "Content-Type: application/octet-stream", "X-CSRF-Token: "+tok))
		wantCode(t, res, 200)
		if len(res.body) != len(body)+1 {
			t.Errorf("handler read %d bytes, want %d", len(res.body)-1, len(body))
		}
	})
}

func TestNoSecretYet(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	tok := a.browser(t).token()

	t.Run("a first visit's POST without a token is rejected without a session", func(t *testing.T) {
		res := a.browser(t).do(formReq("/submit", url.Values{"text": {"hi"}}))
		wantCode(t, res, 403)
		if len(res.cookies) != 0 {
			t.Errorf("set cookies %v", res.cookies)
		}
		a.wantReason(t, csrf.ReasonMissingToken)
	})
	t.Run("a first visit's POST with someone's token is rejected", func(t *testing.T) {
		res := a.browser(t).do(formReq("/submit", url.Values{"csrf_token": {tok}}))
		wantCode(t, res, 403)
		a.wantReason(t, csrf.ReasonNoSecret)
	})
	t.Run("a stored session without a secret accepts no token", func(t *testing.T) {
		b := a.browser(t)
		wantCode(t, b.do(formReq("/login", url.Values{"csrf_token": {b.token()}})), 200)
		wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+tok)), 403)
		a.wantReason(t, csrf.ReasonNoSecret)
	})
	t.Run("login CSRF is rejected, with no session created", func(t *testing.T) {
		res := a.browser(t).do(formReq("/login", url.Values{"user": {"mallory"}, "password": {"x"}},
			"Sec-Fetch-Site: cross-site", "Origin: https://evil.example"))
		wantCode(t, res, 403)
		if len(res.cookies) != 0 {
			t.Errorf("set cookies %v", res.cookies)
		}
		a.wantReason(t, csrf.ReasonCrossOrigin)
	})
	t.Run("login CSRF from a browser without Fetch Metadata is rejected", func(t *testing.T) {
		res := a.browser(t).do(formReq("/login", url.Values{"user": {"mallory"}, "password": {"x"}}))
		wantCode(t, res, 403)
		if len(res.cookies) != 0 {
			t.Errorf("set cookies %v", res.cookies)
		}
		a.wantReason(t, csrf.ReasonMissingToken)
	})
}

func TestConcurrentFirstTokens(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	b := a.browser(t)
	b.token()
	wantCode(t, b.do(formReq("/login", url.Values{"csrf_token": {b.token()}})), 200)
	// The session is stored and has no secret: render many forms at once.
	const n = 20
	cookies := b.jar.Cookies(siteURL)
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := req("GET", "/form", nil)
			for _, c := range cookies {
				r.AddCookie(c)
			}
			w := httptest.NewRecorder()
			a.h.ServeHTTP(w, r)
			tokens[i] = w.Body.String()
		})
	}
	wg.Wait()
	for i, tok := range tokens {
		if res := b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+tok)); res.code != 200 {
			t.Errorf("token %d of %d concurrent pages: got %d, want 200", i, n, res.code)
		}
	}
}

func TestBypassPattern(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	a.p.AddInsecureBypassPattern("POST /hooks/")
	crossSite := []string{"Sec-Fetch-Site: cross-site", "Origin: https://payments.example"}
	tests := []struct {
		name, path string
		want       int
	}{
		{"a request under the pattern is exempt", "/hooks/stripe", 200},
		{"the pattern itself is exempt", "/hooks/", 200},
		{"a path the mux would redirect to the pattern is not exempt", "/hooks", 403},
		{"an unclean path the mux would redirect is not exempt", "/hooks/../submit", 403},
		{"an unclean path into the pattern is not exempt", "/x/../hooks/stripe", 403},
		{"a double slash the mux would clean is not exempt", "//hooks/stripe", 403},
		{"other paths are not exempt", "/submit", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.writes.Load()
			r := req("POST", "/", nil, crossSite...)
			r.URL.Path, r.RequestURI = tt.path, tt.path
			res := a.browser(t).do(r)
			wantCode(t, res, tt.want)
			if tt.want == 403 && a.writes.Load() != before {
				t.Errorf("a rejected request ran a handler")
			}
		})
	}
	t.Run("the pattern's method is respected", func(t *testing.T) {
		wantCode(t, a.browser(t).do(req("PUT", "/hooks/stripe", nil, crossSite...)), 403)
	})
	t.Run("a conflicting pattern panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		a.p.AddInsecureBypassPattern("POST /hooks/")
	})
}

func TestBearerRequests(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{BearerRoutes: []string{"/plain"}})
	crossSite := []string{"Sec-Fetch-Site: cross-site", "Origin: https://spa.example"}
	tests := []struct {
		name    string
		auth    string
		session bool   // send a live session cookie
		cookie  string // another cookie to send
		want    int
	}{
		{"a bearer request without cookies is exempt", "Bearer abc.def.ghi", false, "", 200},
		{"the scheme is case-insensitive", "bearer abc", false, "", 200},
		{"a bearer request with unrelated cookies is exempt", "Bearer abc", false, "theme=dark", 200},
		{"a bearer request with a live session cookie is checked", "Bearer abc", true, "", 403},
		{"an empty bearer token is not a bearer request", "Bearer ", false, "", 403},
		{"Basic authentication is not exempt", "Basic YWxpY2U6cHc=", false, "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := a.browser(t)
			if tt.session {
				b.store()
			}
			r := req("POST", "/plain", nil, crossSite...)
			r.Header.Set("Authorization", tt.auth)
			if tt.cookie != "" {
				r.Header.Set("Cookie", tt.cookie)
			}
			wantCode(t, b.do(r), tt.want)
		})
	}
}

// I-1: an "Authorization: Bearer" header exempts a request only on the
// routes Config.BearerRoutes names, and only when it matches them
// directly. A cookie login form posted with "Authorization: Bearer x" and
// no token is checked, whatever the Config.
func TestBearerExemptionHoldsOnlyOnBearerRoutes(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("user", "mallory")
	})
	mux.HandleFunc("POST /api/", func(w http.ResponseWriter, r *http.Request) {})
	for _, cfg := range []csrf.Config{{}, {BearerRoutes: []string{"POST /api/"}}} {
		m, err := keycard.New(keycard.Config{OnEvent: func(event.Event) {}})
		if err != nil {
			t.Fatal(err)
		}
		p, err := csrf.New(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		h := m.Handler(p.Handler(mux))
		for _, tt := range []struct {
			path string
			want int
		}{
			{"/login", 403},
			{"/api/items", 200},
			{"/api", 403},        // the mux would redirect it to /api/
			{"/x/../api/a", 403}, // and clean this one
		} {
			if len(cfg.BearerRoutes) == 0 {
				tt.want = 403
			}
			r := req("POST", "/", nil, "Authorization: Bearer anything")
			r.URL.Path, r.RequestURI = tt.path, tt.path
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("BearerRoutes %q: POST %s with a bearer header and no token: got %d, want %d", cfg.BearerRoutes, tt.path, w.Code, tt.want)
			}
			if tt.want == 403 && len(w.Result().Cookies()) != 0 {
				t.Errorf("POST %s: a refused request set cookies", tt.path)
			}
		}
	}
}

func TestHeaderCarrier(t *testing.T) {
	t.Parallel()
	// An API client logs in (through a bypass: it has no session, so no
	// token, yet) and then sends its session in a header.
	login := func(t *testing.T, a *app) string {
		t.Helper()
		a.p.AddInsecureBypassPattern("POST /login")
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, req("POST", "/login", nil))
		tok := w.Result().Header.Get("X-Test-Session")
		if w.Code != 200 || tok == "" {
			t.Fatalf("login: %d %q", w.Code, w.Body.String())
		}
		return tok
	}
	post := func(a *app, hdr ...string) int {
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, req("POST", "/submit", nil, append(hdr, "Sec-Fetch-Site: cross-site")...))
		return w.Code
	}

	t.Run("a session sent as a bearer token is exempt", func(t *testing.T) {
		a := newAppWith(t, keycard.Config{Header: "Authorization"}, csrf.Config{})
		tok := login(t, a)
		if got := post(a, "Authorization: Bearer "+tok); got != 200 {
			t.Errorf("got %d, want 200", got)
		}
	})
	// A header-carrier Manager ignores cookies, so no request through it
	// can be authenticated by a cookie a cross-site page made the browser
	// send: all are exempt.
	t.Run("a bearer session sent with unrelated cookies is exempt", func(t *testing.T) {
		a := newAppWith(t, keycard.Config{Header: "Authorization"}, csrf.Config{})
		tok := login(t, a)
		if got := post(a, "Authorization: Bearer "+tok, "Cookie: theme=dark"); got != 200 {
			t.Errorf("got %d, want 200", got)
		}
	})
	t.Run("a session in a custom header is exempt", func(t *testing.T) {
		a := newAppWith(t, keycard.Config{Header: "X-Session"}, csrf.Config{})
		tok := login(t, a)
		if got := post(a, "X-Session: "+tok); got != 200 {
			t.Errorf("got %d, want 200", got)
		}
	})
}

func TestTrustedOrigins(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{TrustedOrigins: []string{"https://admin.example.com"}})
	b := a.browser(t)
	tok := b.token()
	hdr := []string{"Sec-Fetch-Site: same-site", "Origin: https://admin.example.com"}

	wantCode(t, b.do(req("POST", "/submit", nil, append(hdr, "X-CSRF-Token: "+tok)...)), 200)
	wantCode(t, b.do(req("POST", "/submit", nil, hdr...)), 403)
	a.wantReason(t, csrf.ReasonMissingToken)
	wantCode(t, b.do(req("POST", "/submit", nil, "Sec-Fetch-Site: same-site", "Origin: http://admin.example.com", "X-CSRF-Token: "+tok)), 403)
	a.wantReason(t, csrf.ReasonCrossOrigin)
}

func TestEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	b := a.browser(t)
	b.store()
	own, other := b.token(), a.browser(t).token()
	visitor := a.browser(t)
	visitorToken := visitor.token()
	a.csrfEvents()
	b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+other))
	b.do(formReq("/submit", url.Values{"csrf_token": {other + "x"}}))
	b.do(req("POST", "/submit", nil, "Sec-Fetch-Site: cross-site", "X-CSRF-Token: "+own))
	b.do(req("POST", "/submit?csrf_token="+own, nil))
	visitor.do(req("POST", "/submit", nil, "X-CSRF-Token: "+other))

	evs := a.csrfEvents()
	want := []event.Reason{csrf.ReasonBadToken, csrf.ReasonBadToken, csrf.ReasonCrossOrigin, csrf.ReasonMissingToken, csrf.ReasonBadToken}
	if len(evs) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(evs), len(want), evs)
	}
	for i, ev := range evs {
		if ev.Kind != csrf.EventRejected || ev.Reason != want[i] || ev.Request == nil || ev.Time.IsZero() {
			t.Errorf("event %d: %+v, want %s %s with its request", i, ev, csrf.EventRejected, want[i])
		}
		if named := ev.Session != ""; ev.Reason != csrf.ReasonCrossOrigin && named != (i < 4) {
			t.Errorf("event %d: session %q, want one only for the stored session", i, ev.Session)
		}
		if len(ev.Session) > 16 {
			t.Errorf("event %d session %q is longer than a hash prefix", i, ev.Session)
		}
		text := fmt.Sprintf("%s %s %s %s %v", ev.Kind, ev.Reason, ev.Session, ev.UserID, ev.Err)
		cookie := visitor.cookie(csrf.VisitorCookieName)
		for _, tok := range []string{own, other, own[:20], own[43:], other[:20], other[43:], visitorToken, cookie, cookie[:20]} {
			if strings.Contains(text, tok) {
				t.Errorf("event %d contains a token: %s", i, text)
			}
		}
	}
}

func TestErrorHandler(t *testing.T) {
	t.Parallel()
	t.Run("the default response is the same for every reason", func(t *testing.T) {
		a := newApp(t, csrf.Config{})
		b := a.browser(t)
		tok := a.browser(t).token()
		b.token()
		var bodies []string
		for _, r := range []*http.Request{
			req("POST", "/submit", nil, "Sec-Fetch-Site: cross-site"),
			req("POST", "/submit", nil),
			req("POST", "/submit", nil, "X-CSRF-Token: "+tok),
			req("POST", "/submit", nil, "X-CSRF-Token: garbage"),
		} {
			res := b.do(r)
			wantCode(t, res, 403)
			bodies = append(bodies, res.body)
		}
		for _, body := range bodies {
			if body != "Forbidden\n" {
				t.Errorf("got bodies %q, want Forbidden for all", bodies)
				break
			}
		}
	})
	t.Run("a custom handler gets the reason as an error", func(t *testing.T) {
		var got []error
		a := newApp(t, csrf.Config{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = append(got, err)
			http.Error(w, "please reload the page", http.StatusTeapot)
		}})
		b := a.browser(t)
		res := b.do(req("POST", "/submit", nil, "Sec-Fetch-Site: same-site"))
		wantCode(t, res, http.StatusTeapot)
		b.do(req("POST", "/submit", nil))
		b.token()
		b.do(req("POST", "/submit", nil, "X-CSRF-Token: nope"))
		want := []error{csrf.ErrCrossOrigin, csrf.ErrMissingToken, csrf.ErrBadToken}
		if len(got) != len(want) {
			t.Fatalf("got errors %v, want %v", got, want)
		}
		for i := range want {
			if !errors.Is(got[i], want[i]) {
				t.Errorf("error %d: got %v, want %v", i, got[i], want[i])
			}
		}
	})
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]csrf.Config{
		"an origin with a path":         {TrustedOrigins: []string{"https://admin.example.com/"}},
		"an origin without a scheme":    {TrustedOrigins: []string{"admin.example.com"}},
		"an origin with a query":        {TrustedOrigins: []string{"https://admin.example.com?x"}},
		"an unparsable origin":          {TrustedOrigins: []string{"https://[::1"}},
		"a negative MaxFormBytes":       {MaxFormBytes: -1},
		"a header name with a space":    {HeaderName: "X CSRF"},
		"the Cookie header for a token": {HeaderName: "cookie"},
		"the Authorization header":      {HeaderName: "Authorization"},
		"an invalid bearer route":       {BearerRoutes: []string{"POST"}},
		"conflicting bearer routes":     {BearerRoutes: []string{"/api/", "/api/"}},
	}
	for name, cfg := range bad {
		if _, err := csrf.New(m, cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
	if _, err := csrf.New(nil, csrf.Config{}); err == nil {
		t.Error("New(nil) succeeded, want an error")
	}
	good := csrf.Config{
		TrustedOrigins: []string{"https://admin.example.com", "http://localhost:8080"},
		FieldName:      "_csrf", HeaderName: "X-XSRF-Token", MaxFormBytes: 1,
		BearerRoutes: []string{"POST /api/", "DELETE /api/{id}"},
	}
	if _, err := csrf.New(m, good); err != nil {
		t.Errorf("New(%+v): %v", good, err)
	}
}

func TestCustomNames(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{FieldName: "_csrf", HeaderName: "X-XSRF-Token"})
	b := a.browser(t)
	tok := b.token()
	wantCode(t, b.do(formReq("/submit", url.Values{"_csrf": {tok}})), 200)
	wantCode(t, b.do(req("POST", "/submit", nil, "X-Xsrf-Token: "+tok)), 200)
	wantCode(t, b.do(formReq("/submit", url.Values{"csrf_token": {tok}})), 403)
	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+tok)), 403)
}

func TestSealedSessions(t *testing.T) {
	t.Parallel()
	a := newAppWith(t, keycard.Config{Sealed: true, Keys: []keycard.Key{keycard.NewKey()}}, csrf.Config{})
	b := a.browser(t)
	before := b.token()
	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+before)), 200)
	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+a.browser(t).token())), 403)
	wantCode(t, b.do(formReq("/login", url.Values{"csrf_token": {before}})), 200)
	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+before)), 403)
	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+b.token())), 200)
}

// flakyStore is a memory store whose Load fails while down is set.
type flakyStore struct {
	store.Store
	down atomic.Bool
}

func (s *flakyStore) Load(ctx context.Context, key string) (*store.Record, error) {
	if s.down.Load() {
		return nil, errors.New("store unavailable")
	}
	return s.Store.Load(ctx, key)
}

func TestStoreFailure(t *testing.T) {
	t.Parallel()
	st := &flakyStore{Store: memory.New(memory.Config{})}
	a := newAppWith(t, keycard.Config{Store: st, Keys: []keycard.Key{keycard.NewKey()},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		}}, csrf.Config{})
	b := a.browser(t)
	b.store()
	tok := b.token()
	st.down.Store(true)
	before := a.writes.Load()
	for _, r := range []*http.Request{
		req("POST", "/submit", nil, "X-CSRF-Token: "+tok),
		req("POST", "/submit", nil),
		req("POST", "/submit", nil, "Authorization: Bearer abc"),
	} {
		// Not a forgery: the Manager's ErrorHandler answers, and no
		// handler runs.
		wantCode(t, b.do(r), http.StatusServiceUnavailable)
	}
	if a.writes.Load() != before {
		t.Error("a handler ran without its session")
	}
	a.wantNoEvents(t)
	st.down.Store(false)
	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+tok)), 200)
}

func TestTokenAfterResponseStarted(t *testing.T) {
	t.Parallel()
	m, err := keycard.New(keycard.Config{OnEvent: func(event.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "page started")
		got = csrf.Token(r)
	}))
	h.ServeHTTP(httptest.NewRecorder(), req("GET", "/", nil))
	if got != "" {
		t.Errorf("a new session's token after the response started: got %q, want \"\"", got)
	}
}
