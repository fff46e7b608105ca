// Package adaptertest holds the checks that every framework adapter of
// keycard (contrib/gin, contrib/echo) runs in its tests. Each adapter's
// test builds the routes below with its own framework's router, keycard's
// middleware installed through the adapter and the framework's own panic
// recovery outside it, and passes them to RunFlows, which serves them over
// TLS and drives them with a browser-like Client. The routes are:
//
//	POST /cart?item=X   keycard.Update appends X to the "cart" []string; answers the cart's length
//	POST /login?user=U  Manager.Login as U; answers JSON {"user":U}
//	GET  /me            answers Me(session)
//	POST /visit         keycard.Update increments the "visits" int; answers the new count
//	POST /logout        Manager.Logout; answers 204 without a body
//	POST /silent        puts "theme"; writes no response at all
//	POST /created       puts "theme"; answers 201 without a body
//	GET  /stream        puts "theme"; writes "chunk" and flushes
//	POST /fail          puts "theme"; fails with status 418, the framework's error path (Adapter.FailBody)
//	POST /late          answers "too early", then sends what a Put returns to App.LateErr
//	POST /panic         puts "theme", then panics
//	GET  /form          behind App.CSRF through the adapter: answers csrf.Token
//	POST /transfer      behind App.CSRF through the adapter: adds 1 to App.Transfers; answers "done"
//
// The package uses the standard library and keycard's packages only, so
// the root module gains no dependency; its import path is under internal/
// of the root module, which the contrib modules may import.
package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/store"
)

// Adapter describes one framework adapter to RunFlows.
type Adapter struct {
	// Name names the framework in failure messages ("gin", "Echo").
	Name string
	// Recovery names the framework's panic recovery middleware in
	// failure messages ("gin.Recovery", "middleware.Recover").
	Recovery string
	// FailBody is the body, spaces trimmed, that the framework answers
	// for POST /fail.
	FailBody string
	// Routes returns the framework's router serving the routes of the
	// package doc, which use a's Manager, CSRF, Transfers and LateErr.
	Routes func(a *App) http.Handler
}

// App is one test server: the Manager and csrf Protection its routes use,
// the counters its routes report to, and the TLS server running them.
type App struct {
	// Manager is the Manager whose middleware the routes run in.
	Manager *keycard.Manager
	// CSRF protects GET /form and POST /transfer.
	CSRF *csrf.Protection
	// Transfers counts the runs of the POST /transfer handler.
	Transfers atomic.Int64
	// LateErr receives what Put returned in POST /late, after the
	// response started. It holds one value.
	LateErr chan error

	server *httptest.Server
}

// NewApp starts a TLS test server with a Manager built from cfg and the
// router that routes returns, and stops it when t ends.
func NewApp(t *testing.T, cfg keycard.Config, routes func(*App) http.Handler) *App {
	t.Helper()
	m, err := keycard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(m, csrf.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := &App{Manager: m, CSRF: p, LateErr: make(chan error, 1)}
	a.server = httptest.NewTLSServer(routes(a))
	t.Cleanup(a.server.Close)
	return a
}

// Me is the body of GET /me: the session's user, cart and visits.
func Me(s *keycard.Session) string {
	cart, _ := keycard.Get[[]string](s, "cart")
	visits, _ := keycard.Get[int](s, "visits")
	return fmt.Sprintf("user=%q cart=%v visits=%d", s.UserID(), cart, visits)
}

// Client is a browser with a cookie jar of its own.
type Client struct {
	t   *testing.T
	c   *http.Client
	url *url.URL
}

// Client returns a new browser for a's server that reports to t.
func (a *App) Client(t *testing.T) *Client {
	jar, _ := cookiejar.New(nil)
	c := *a.server.Client() // a copy: each client has its own jar
	c.Jar = jar
	u, _ := url.Parse(a.server.URL)
	return &Client{t: t, c: &c, url: u}
}

// Do sends a request with the given header names and values, in pairs,
// and returns the response and its body, spaces trimmed.
func (cl *Client) Do(method, path string, header ...string) (*http.Response, string) {
	cl.t.Helper()
	req, _ := http.NewRequest(method, cl.url.String()+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := cl.c.Do(req)
	if err != nil {
		cl.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, strings.TrimSpace(string(b))
}

// Body sends a request and returns its body, failing on a status other
// than 2xx.
func (cl *Client) Body(method, path string) string {
	cl.t.Helper()
	res, b := cl.Do(method, path)
	if res.StatusCode/100 != 2 {
		cl.t.Fatalf("%s %s: status %d: %s", method, path, res.StatusCode, b)
	}
	return b
}

// Session returns the session cookie's value in the jar, or "".
func (cl *Client) Session() string {
	for _, c := range cl.c.Jar.Cookies(cl.url) {
		if c.Name == keycard.DefaultCookieName {
			return c.Value
		}
	}
	return ""
}

// SetSession replaces the jar's session cookie with value.
func (cl *Client) SetSession(value string) {
	cl.c.Jar.SetCookies(cl.url, []*http.Cookie{{Name: keycard.DefaultCookieName, Value: value, Path: "/", Secure: true}})
}

// CheckPanic sends POST /panic, whose handler changes the session and
// panics, to h, a router with the framework's recovery and keycard's
// middleware in some order. It wants 500, and a session cookie in the
// response if and only if wantSaved.
func CheckPanic(t *testing.T, h http.Handler, wantSaved bool) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/panic", nil))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status: got %d, want 500", w.Code)
	}
	if saved := len(w.Result().Cookies()) > 0; saved != wantSaved {
		t.Errorf("session saved: got %v, want %v", saved, wantSaved)
	}
}

// RunFlows runs the checks every adapter passes, each as a parallel
// subtest on a server of its own built with ad.Routes: login, reads,
// writes and logout; the cookie reaching the client however the handler
// answers; no cookie after the response started; nothing saved for a
// panicking handler; csrf through the adapter; 503 when the store is down.
func RunFlows(t *testing.T, ad Adapter) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, Adapter)
	}{
		{"LoginReadWriteLogout", loginReadWriteLogout},
		{"CookieReachesTheClient", cookieReachesTheClient},
		{"ChangesAfterTheResponseStarted", changesAfterTheResponseStarted},
		{"PanicSavesNothing", panicSavesNothing},
		{"CSRF", csrfThroughTheAdapter},
		{"StoreFailureAnswers503", storeFailureAnswers503},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, ad)
		})
	}
}

// nobody is GET /me's body for a session without a user or values.
const nobody = `user="" cart=[] visits=0`

func loginReadWriteLogout(t *testing.T, ad Adapter) {
	cl := NewApp(t, keycard.Config{}, ad.Routes).Client(t)

	if got := cl.Body("GET", "/me"); got != nobody {
		t.Errorf("a new visitor: got %s", got)
	}
	if cl.Session() != "" {
		t.Error("reading an empty session set a cookie")
	}
	cl.Body("POST", "/cart?item=book")
	anonymous := cl.Session()
	if anonymous == "" {
		t.Fatal("writing the session set no cookie")
	}

	if got := cl.Body("POST", "/login?user=alice"); got != `{"user":"alice"}` {
		t.Errorf("login: got %s", got)
	}
	loggedIn := cl.Session()
	if loggedIn == "" || loggedIn == anonymous {
		t.Fatalf("login kept the session ID (fixation): before %.12s…, after %.12s…", anonymous, loggedIn)
	}
	for i := 1; i <= 3; i++ {
		if got := cl.Body("POST", "/visit"); got != fmt.Sprint(i) {
			t.Errorf("visit %d: got %s", i, got)
		}
	}
	if got := cl.Body("GET", "/me"); got != `user="alice" cart=[book] visits=3` {
		t.Errorf("after login and visits: got %s", got)
	}

	res, _ := cl.Do("POST", "/logout")
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("logout status: got %d, want 204", res.StatusCode)
	}
	if cl.Session() != "" {
		t.Error("logout left the session cookie in the jar")
	}
	if got := cl.Body("GET", "/me"); got != nobody {
		t.Errorf("after logout: got %s", got)
	}
	// Copies of the old cookies no longer work.
	for _, old := range []struct{ name, value string }{{"logged-in", loggedIn}, {"pre-login", anonymous}} {
		cl.SetSession(old.value)
		if got := cl.Body("GET", "/me"); got != nobody {
			t.Errorf("replayed %s cookie after logout: got %s", old.name, got)
		}
	}
}

func cookieReachesTheClient(t *testing.T, ad Adapter) {
	a := NewApp(t, keycard.Config{}, ad.Routes)
	for _, c := range []struct {
		name, method, path string
		status             int
		body               string
	}{
		{"when the handler writes nothing", "POST", "/silent", http.StatusOK, ""},
		{"when the handler only sets a status", "POST", "/created", http.StatusCreated, ""},
		{"when the handler streams", "GET", "/stream", http.StatusOK, "chunk"},
		{"when the handler renders JSON", "POST", "/login?user=bob", http.StatusOK, `{"user":"bob"}`},
		{"when the handler fails", "POST", "/fail", http.StatusTeapot, ad.FailBody},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cl := a.Client(t)
			res, body := cl.Do(c.method, c.path)
			if res.StatusCode != c.status || body != c.body {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, c.status, c.body)
			}
			if cl.Session() == "" {
				t.Fatalf("no session cookie; Set-Cookie: %q", res.Header.Values("Set-Cookie"))
			}
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			if got := cl.Body("GET", "/me"); !strings.HasPrefix(got, "user=") {
				t.Errorf("reading back: got %s", got)
			}
		})
	}
}

func changesAfterTheResponseStarted(t *testing.T, ad Adapter) {
	a := NewApp(t, keycard.Config{}, ad.Routes)
	cl := a.Client(t)
	if got := cl.Body("POST", "/late"); got != "too early" {
		t.Errorf("got %q", got)
	}
	if err := <-a.LateErr; !errors.Is(err, keycard.ErrResponseStarted) {
		t.Errorf("Put after %s wrote the body: got %v, want ErrResponseStarted", ad.Name, err)
	}
	if cl.Session() != "" {
		t.Error("a cookie was set after the response started")
	}
}

func panicSavesNothing(t *testing.T, ad Adapter) {
	cl := NewApp(t, keycard.Config{}, ad.Routes).Client(t)
	res, _ := cl.Do("POST", "/panic")
	if res.StatusCode != http.StatusInternalServerError {
		t.Errorf("status: got %d, want 500 from %s", res.StatusCode, ad.Recovery)
	}
	if cl.Session() != "" {
		t.Error("a panicking handler's session was saved")
	}
}

func csrfThroughTheAdapter(t *testing.T, ad Adapter) {
	a := NewApp(t, keycard.Config{}, ad.Routes)
	cl := a.Client(t)
	token := cl.Body("GET", "/form")
	if token == "" {
		t.Fatal("no CSRF token")
	}
	for _, c := range []struct {
		name   string
		header []string
		status int
	}{
		{"a post without a token is refused", nil, http.StatusForbidden},
		{"a post with a wrong token is refused", []string{"X-CSRF-Token", "bm9wZQ"}, http.StatusForbidden},
		{"a cross-site post is refused", []string{"X-CSRF-Token", token, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, http.StatusForbidden},
		{"a post with the token passes", []string{"X-CSRF-Token", token}, http.StatusOK},
	} {
		before := a.Transfers.Load()
		res, _ := cl.Do("POST", "/transfer", c.header...)
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, res.StatusCode, c.status)
		}
		ran := a.Transfers.Load() - before
		if c.status != http.StatusOK && ran != 0 {
			t.Errorf("%s: the chain went on after csrf answered (handler ran %d times)", c.name, ran)
		} else if c.status == http.StatusOK && ran != 1 {
			t.Errorf("%s: handler ran %d times, want 1", c.name, ran)
		}
	}
	// Login rotates the token: the old one stops working.
	cl.Body("POST", "/login?user=alice")
	if res, _ := cl.Do("POST", "/transfer", "X-CSRF-Token", token); res.StatusCode != http.StatusForbidden {
		t.Errorf("pre-login token after login: status %d, want 403", res.StatusCode)
	}
}

func storeFailureAnswers503(t *testing.T, ad Adapter) {
	a := NewApp(t, keycard.Config{Store: downStore{}}, ad.Routes)
	for _, c := range []struct{ method, path string }{{"GET", "/stream"}, {"POST", "/created"}, {"POST", "/fail"}} {
		res, body := a.Client(t).Do(c.method, c.path)
		if res.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, "chunk") || strings.Contains(body, "coffee") {
			t.Errorf("%s %s: got %d %q, want 503 without the handler's output", c.method, c.path, res.StatusCode, body)
		}
	}
}

// downStore fails every call, as a store whose server is unreachable.
type downStore struct{}

var errDown = errors.New("test store: connection refused")

func (downStore) Load(context.Context, string) (*store.Record, error)       { return nil, errDown }
func (downStore) Save(context.Context, string, *store.Record) error         { return errDown }
func (downStore) Delete(context.Context, string) error                      { return errDown }
func (downStore) Touch(context.Context, string, time.Time, time.Time) error { return errDown }
