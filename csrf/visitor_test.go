package csrf_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// countingStore is a memory store that counts its writes.
type countingStore struct {
	*memory.Store
	saves atomic.Int64
}

func (s *countingStore) Save(ctx context.Context, key string, rec *store.Record) error {
	s.saves.Add(1)
	return s.Store.Save(ctx, key, rec)
}

// newCountingApp returns an app over a counting memory store.
func newCountingApp(t *testing.T) (*app, *countingStore) {
	t.Helper()
	st := &countingStore{Store: memory.New(memory.Config{})}
	return newAppWith(t, keycard.Config{Store: st}, csrf.Config{}), st
}

// F1: a visitor who has stored nothing costs no store write. Forms for
// visitors whose session is not stored carry tokens bound to the visitor
// cookie; no session is stored until a handler puts something in it. The
// test fails if Token stores a session for a visitor again.
func TestVisitorTokensStoreNothing(t *testing.T) {
	t.Parallel()
	a, st := newCountingApp(t)
	const visitors = 50
	var browsers []*browser
	for range visitors {
		b := a.browser(t)
		res := b.do(req("GET", "/form", nil))
		wantCode(t, res, 200)
		if len(res.cookies) != 1 || res.cookies[0].Name != csrf.VisitorCookieName {
			t.Fatalf("a visitor's form set cookies %v, want the visitor cookie alone", res.cookies)
		}
		b.token() // a second page: the same cookie, no Set-Cookie
		browsers = append(browsers, b)
	}
	if n, saves := st.Len(), st.saves.Load(); n != 0 || saves != 0 {
		t.Fatalf("after %d visitors loaded forms: %d records, %d writes; want none", visitors, n, saves)
	}

	// Their tokens work, and a form post that stores nothing stores nothing.
	for _, b := range browsers {
		wantCode(t, b.do(req("POST", "/plain", nil, "X-CSRF-Token: "+b.token())), 200)
	}
	if n, saves := st.Len(), st.saves.Load(); n != 0 || saves != 0 {
		t.Fatalf("after their posts: %d records, %d writes; want none", n, saves)
	}
	a.wantNoEvents(t)

	// A handler that puts a value stores the one session.
	b := browsers[0]
	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+b.token())), 200)
	if n := st.Len(); n != 1 {
		t.Errorf("after one visitor stored a value: %d records, want 1", n)
	}
}

func TestVisitorCookie(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, req("GET", "/form", nil))
	lines := w.Result().Header.Values("Set-Cookie")
	if len(lines) != 1 {
		t.Fatalf("Set-Cookie %q, want one line", lines)
	}
	c, err := http.ParseSetCookie(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "__Host-keycard-csrf" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.Domain != "" || c.MaxAge != 0 || !c.Expires.IsZero() || len(c.Value) != 43 {
		t.Errorf("visitor cookie %q: want __Host-keycard-csrf, 43 characters, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, a browser-session cookie", lines[0])
	}
	h := w.Result().Header
	if h.Get("Cache-Control") != "no-store" || h.Get("Vary") != "Cookie" {
		t.Errorf("Cache-Control %q, Vary %q; want no-store and Cookie", h.Get("Cache-Control"), h.Get("Vary"))
	}
	tok := w.Body.String()
	if len(tok) != 86 {
		t.Errorf("visitor token of %d characters, want 86 like a session's", len(tok))
	}
}

// The first form post after a page load never fails: not when the
// visitor's session is stored between the page load and the post (another
// tab put something in it, or rendered a form of the stored session), and
// not when the post is the login itself.
func TestFirstPostAfterPageLoad(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	t.Run("after another tab stored the session", func(t *testing.T) {
		b := a.browser(t)
		first := b.token()
		wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+b.token())), 200)
		b.token() // another tab renders a form: the stored session gets a secret
		wantCode(t, b.do(formReq("/submit", url.Values{"csrf_token": {first}})), 200)
	})
	t.Run("when the post is the login", func(t *testing.T) {
		b := a.browser(t)
		wantCode(t, b.do(formReq("/login", url.Values{"csrf_token": {b.token()}})), 200)
	})
	t.Run("when the post is the login of a stored anonymous session", func(t *testing.T) {
		b := a.browser(t)
		first := b.token()
		b.store()
		wantCode(t, b.do(formReq("/login", url.Values{"csrf_token": {first}})), 200)
	})
	t.Run("with a token of the stored session", func(t *testing.T) {
		b := a.browser(t)
		b.store()
		wantCode(t, b.do(formReq("/login", url.Values{"csrf_token": {b.token()}})), 200)
	})
	a.wantNoEvents(t)
}

// A visitor token does not outlive the login it was issued before: the
// login's response deletes the visitor cookie, and a signed-in session
// accepts no visitor token even if the client keeps sending the cookie.
func TestVisitorTokensEndAtLogin(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	b := a.browser(t)
	before := b.token()
	cookie := b.cookie(csrf.VisitorCookieName)
	res := b.do(formReq("/login", url.Values{"csrf_token": {before}}))
	wantCode(t, res, 200)
	deleted := false
	for _, c := range res.cookies {
		deleted = deleted || c.Name == csrf.VisitorCookieName && c.MaxAge < 0
	}
	if !deleted || b.cookie(csrf.VisitorCookieName) != "" {
		t.Fatalf("the login's response set cookies %v; want the visitor cookie deleted", res.cookies)
	}
	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+before)), 403)
	a.wantReason(t, csrf.ReasonNoSecret)

	r := req("POST", "/submit", nil, "X-CSRF-Token: "+before)
	r.AddCookie(&http.Cookie{Name: csrf.VisitorCookieName, Value: cookie})
	wantCode(t, b.do(r), 403)
	a.wantReason(t, csrf.ReasonBadToken)

	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+b.token())), 200)

	// After logout the visitor gets a new cookie; the old token stays dead.
	wantCode(t, b.do(req("POST", "/logout", nil, "X-CSRF-Token: "+b.token())), 200)
	after := b.token()
	if c := b.cookie(csrf.VisitorCookieName); c == "" || c == cookie {
		t.Errorf("after logout the visitor cookie is %q; want a new one", c)
	}
	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+before)), 403)
	a.wantReason(t, csrf.ReasonBadToken)
	wantCode(t, b.do(req("POST", "/submit", nil, "X-CSRF-Token: "+after)), 200)
}

// A visitor token is bound to its visitor cookie: it fails with another
// visitor's cookie, with a malformed or duplicated cookie, and with none.
func TestVisitorTokenBinding(t *testing.T) {
	t.Parallel()
	a := newApp(t, csrf.Config{})
	b, other := a.browser(t), a.browser(t)
	tok, otherTok := b.token(), other.token()
	own := b.cookie(csrf.VisitorCookieName)
	if len(own) != 43 {
		t.Fatalf("visitor cookie %q, want 43 characters", own)
	}
	post := func(tok string, cookies ...string) int {
		r := req("POST", "/submit", nil, "X-CSRF-Token: "+tok)
		if len(cookies) > 0 {
			r.Header.Set("Cookie", strings.Join(cookies, "; "))
		}
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, r)
		return w.Code
	}
	name := csrf.VisitorCookieName + "="
	tests := []struct {
		name    string
		tok     string
		cookies []string
		want    int
		reason  event.Reason
	}{
		{"its own cookie", tok, []string{name + own}, 200, ""},
		{"another visitor's cookie", otherTok, []string{name + own}, 403, csrf.ReasonBadToken},
		{"no cookie", tok, nil, 403, csrf.ReasonNoSecret},
		{"a malformed cookie", tok, []string{name + own[:42]}, 403, csrf.ReasonNoSecret},
		{"a cookie that is not base64url", tok, []string{name + own[:42] + "!"}, 403, csrf.ReasonNoSecret},
		{"the cookie twice", tok, []string{name + own, name + own}, 403, csrf.ReasonNoSecret},
		{"the cookie and a tossed one", tok, []string{name + own, name + other.cookie(csrf.VisitorCookieName)}, 403, csrf.ReasonNoSecret},
		{"the cookie under another name", tok, []string{"__Host-keycard-CSRF=" + own}, 403, csrf.ReasonNoSecret},
		{"the cookie value as the token", own, []string{name + own}, 403, csrf.ReasonBadToken},
		{"the cookie as the session cookie", tok, []string{keycard.DefaultCookieName + "=" + own}, 403, csrf.ReasonNoSecret},
	}
	for _, tt := range tests {
		a.csrfEvents()
		if got := post(tt.tok, tt.cookies...); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
			continue
		}
		if tt.reason != "" {
			evs := a.csrfEvents()
			if len(evs) != 1 || evs[0].Reason != tt.reason {
				t.Errorf("%s: events %+v, want one %s", tt.name, evs, tt.reason)
			}
		}
	}
}

// Visitor tokens are bound under keys derived from the Manager's Keys:
// after a rotation (a new key in front) they still verify; once their key
// is removed, they fail.
func TestVisitorTokensSurviveKeyRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := keycard.NewKey(), keycard.NewKey()
	old := newAppWith(t, keycard.Config{Keys: []keycard.Key{k1}}, csrf.Config{})
	b := old.browser(t)
	tok := b.token()
	for _, tt := range []struct {
		name string
		keys []keycard.Key
		want int
	}{
		{"the same key", []keycard.Key{k1}, 200},
		{"a new key in front", []keycard.Key{k2, k1}, 200},
		{"the old key removed", []keycard.Key{k2}, 403},
	} {
		b.a = newAppWith(t, keycard.Config{Keys: tt.keys}, csrf.Config{})
		if got := b.do(req("POST", "/plain", nil, "X-CSRF-Token: "+tok)).code; got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
	b.a = newAppWith(t, keycard.Config{Keys: []keycard.Key{k2, k1}}, csrf.Config{})
	fresh := b.token()
	b.a = newAppWith(t, keycard.Config{Keys: []keycard.Key{k2}}, csrf.Config{})
	wantCode(t, b.do(req("POST", "/plain", nil, "X-CSRF-Token: "+fresh)), 200)
}

func TestVisitorTokenAfterResponseStarted(t *testing.T) {
	t.Parallel()
	m, err := keycard.New(keycard.Config{OnEvent: func(event.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(m, csrf.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	h := m.Handler(p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "page started")
		got = csrf.Token(r)
	})))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", "/", nil))
	if got != "" || len(w.Result().Cookies()) != 0 {
		t.Errorf("a visitor without a cookie, after the response started: token %q, cookies %v; want neither", got, w.Result().Cookies())
	}
	// With the cookie already there, nothing needs setting.
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", "/", nil, "Cookie: "+csrf.VisitorCookieName+"="+strings.Repeat("A", 43)))
	if len(got) != 86 {
		t.Errorf("a visitor with a cookie, after the response started: token %q, want one", got)
	}
}

// Token issues visitor tokens only for requests through Protection.Handler;
// elsewhere it stores the secret in the session, as before.
func TestTokenOutsideHandlerStoresTheSecret(t *testing.T) {
	t.Parallel()
	st := &countingStore{Store: memory.New(memory.Config{})}
	m, err := keycard.New(keycard.Config{Store: st, OnEvent: func(event.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, csrf.Token(r))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", "/", nil))
	if w.Body.Len() != 86 || st.Len() != 1 {
		t.Errorf("token %q, %d records; want a token and the stored session", w.Body.String(), st.Len())
	}
}

// Two Protections around one handler (as when an application and a
// library each install one) set one visitor cookie between them, and the
// tokens of either pass both.
func TestNestedProtectionsShareTheVisitorCookie(t *testing.T) {
	t.Parallel()
	m, err := keycard.New(keycard.Config{OnEvent: func(event.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	outer, _ := csrf.New(m, csrf.Config{})
	inner, _ := csrf.New(m, csrf.Config{})
	h := m.Handler(outer.Handler(inner.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, csrf.Token(r))
	}))))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", "/", nil))
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != csrf.VisitorCookieName {
		t.Fatalf("cookies %v, want one visitor cookie", cookies)
	}
	r := req("POST", "/", nil, "X-CSRF-Token: "+w.Body.String())
	r.AddCookie(cookies[0])
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("a visitor token through two Protections: %d, want 200", w.Code)
	}
}

// The visitor cookie follows the Manager's cookie: its name plus "-csrf",
// and its attributes, so a development server on plain HTTP
// (InsecureAllowHTTP) gets a cookie the browser keeps, and visitors' posts
// work there too.
func TestVisitorCookieFollowsTheManagersCookie(t *testing.T) {
	t.Parallel()
	a := newAppWith(t, keycard.Config{InsecureAllowHTTP: true, Cookie: keycard.Cookie{Name: "sid", SameSite: http.SameSiteStrictMode}}, csrf.Config{})
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, httptest.NewRequest("GET", "http://dev.example:8080/form", nil))
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("the form set %d cookies, want the visitor cookie", len(cookies))
	}
	c := cookies[0]
	if c.Name != "sid-csrf" || c.Secure || c.SameSite != http.SameSiteStrictMode || !c.HttpOnly {
		t.Errorf("visitor cookie %s: Secure %t, SameSite %v, HttpOnly %t; want sid-csrf, not Secure over HTTP, Strict, HttpOnly", c.Name, c.Secure, c.SameSite, c.HttpOnly)
	}
	post := httptest.NewRequest("POST", "http://dev.example:8080/submit", nil)
	post.Header.Set("X-CSRF-Token", w.Body.String())
	post.Header.Set("Sec-Fetch-Site", "same-origin")
	post.AddCookie(c)
	pw := httptest.NewRecorder()
	a.h.ServeHTTP(pw, post)
	if pw.Code != http.StatusOK {
		t.Errorf("a visitor's post over HTTP: got %d %q, want 200", pw.Code, pw.Body.String())
	}
}
