package echokeycard_test

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
	echokeycard "github.com/keycard-go/keycard/contrib/echo"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/store"
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

// app is an Echo server with Keycard and csrf middleware and the routes
// the tests drive.
type app struct {
	m         *keycard.Manager
	ts        *httptest.Server
	transfers atomic.Int64 // POST /transfer handler runs
	lateErr   chan error   // what Put returned after the response started
}

func newApp(t *testing.T, cfg keycard.Config) *app {
	t.Helper()
	m, err := keycard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(m, csrf.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := &app{m: m, lateErr: make(chan error, 1)}
	e := echo.New()
	e.Use(middleware.Recover(), echokeycard.Middleware(m))

	e.POST("/cart", func(c *echo.Context) error {
		items, err := keycard.Update(c.Request().Context(), echokeycard.FromContext(c), "cart",
			func(items []string) []string { return append(items, c.QueryParam("item")) })
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprint(len(items)))
	})
	e.POST("/login", func(c *echo.Context) error {
		s := echokeycard.FromContext(c)
		if err := m.Login(c.Request().Context(), s, c.QueryParam("user")); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"user": s.UserID()})
	})
	e.GET("/me", func(c *echo.Context) error {
		s := echokeycard.FromContext(c)
		cart, _ := keycard.Get[[]string](s, "cart")
		visits, _ := keycard.Get[int](s, "visits")
		return c.String(http.StatusOK, fmt.Sprintf("user=%q cart=%v visits=%d", s.UserID(), cart, visits))
	})
	e.POST("/visit", func(c *echo.Context) error {
		n, err := keycard.Update(c.Request().Context(), echokeycard.FromContext(c), "visits",
			func(n int) int { return n + 1 })
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprint(n))
	})
	e.POST("/logout", func(c *echo.Context) error {
		if err := m.Logout(c.Request().Context(), echokeycard.FromContext(c)); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	e.POST("/silent", func(c *echo.Context) error {
		return echokeycard.FromContext(c).Put("theme", "dark") // and no response at all
	})
	e.POST("/created", func(c *echo.Context) error {
		echokeycard.FromContext(c).Put("theme", "dark")
		return c.NoContent(http.StatusCreated)
	})
	e.GET("/stream", func(c *echo.Context) error {
		echokeycard.FromContext(c).Put("theme", "dark")
		fmt.Fprint(c.Response(), "chunk")
		return http.NewResponseController(c.Response()).Flush()
	})
	e.POST("/fail", func(c *echo.Context) error {
		echokeycard.FromContext(c).Put("theme", "dark")
		return echo.NewHTTPError(http.StatusTeapot, "no coffee")
	})
	e.POST("/late", func(c *echo.Context) error {
		err := c.String(http.StatusOK, "too early")
		a.lateErr <- echokeycard.FromContext(c).Put("theme", "dark")
		return err
	})
	e.POST("/panic", func(c *echo.Context) error {
		echokeycard.FromContext(c).Put("theme", "dark")
		panic("handler bug")
	})

	// CSRF through Echo: only the routes of this group are protected.
	protected := e.Group("", echokeycard.Wrap(p.Handler))
	protected.GET("/form", func(c *echo.Context) error {
		return c.String(http.StatusOK, csrf.Token(c.Request()))
	})
	protected.POST("/transfer", func(c *echo.Context) error {
		a.transfers.Add(1)
		return c.String(http.StatusOK, "done")
	})

	a.ts = httptest.NewTLSServer(e)
	t.Cleanup(a.ts.Close)
	return a
}

// client is a browser with a cookie jar.
type client struct {
	t   *testing.T
	c   *http.Client
	url *url.URL
}

func (a *app) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	c := *a.ts.Client() // a copy: each client has its own jar
	c.Jar = jar
	u, _ := url.Parse(a.ts.URL)
	return &client{t: t, c: &c, url: u}
}

// do sends a request and returns the response, with its body read.
func (cl *client) do(method, path string, header ...string) (*http.Response, string) {
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

// body sends a request and returns its body, failing on a status other
// than 2xx.
func (cl *client) body(method, path string) string {
	cl.t.Helper()
	res, b := cl.do(method, path)
	if res.StatusCode/100 != 2 {
		cl.t.Fatalf("%s %s: status %d: %s", method, path, res.StatusCode, b)
	}
	return b
}

// session returns the session cookie's value in the jar, or "".
func (cl *client) session() string {
	for _, c := range cl.c.Jar.Cookies(cl.url) {
		if c.Name == keycard.DefaultCookieName {
			return c.Value
		}
	}
	return ""
}

// setSession replaces the jar's session cookie with value.
func (cl *client) setSession(value string) {
	cl.c.Jar.SetCookies(cl.url, []*http.Cookie{{Name: keycard.DefaultCookieName, Value: value, Path: "/", Secure: true}})
}

func TestLoginReadWriteLogout(t *testing.T) {
	t.Parallel()
	a := newApp(t, keycard.Config{})
	cl := a.client(t)

	if got := cl.body("GET", "/me"); got != `user="" cart=[] visits=0` {
		t.Errorf("a new visitor: got %s", got)
	}
	if cl.session() != "" {
		t.Error("reading an empty session set a cookie")
	}
	cl.body("POST", "/cart?item=book")
	anonymous := cl.session()
	if anonymous == "" {
		t.Fatal("writing the session set no cookie")
	}

	if got := cl.body("POST", "/login?user=alice"); got != `{"user":"alice"}` {
		t.Errorf("login: got %s", got)
	}
	loggedIn := cl.session()
	if loggedIn == "" || loggedIn == anonymous {
		t.Fatalf("login kept the session ID (fixation): before %.12s…, after %.12s…", anonymous, loggedIn)
	}
	for i := 1; i <= 3; i++ {
		if got := cl.body("POST", "/visit"); got != fmt.Sprint(i) {
			t.Errorf("visit %d: got %s", i, got)
		}
	}
	if got := cl.body("GET", "/me"); got != `user="alice" cart=[book] visits=3` {
		t.Errorf("after login and visits: got %s", got)
	}

	res, _ := cl.do("POST", "/logout")
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("logout status: got %d, want 204", res.StatusCode)
	}
	if cl.session() != "" {
		t.Error("logout left the session cookie in the jar")
	}
	if got := cl.body("GET", "/me"); got != `user="" cart=[] visits=0` {
		t.Errorf("after logout: got %s", got)
	}
	// Copies of the old cookies no longer work.
	for name, old := range map[string]string{"logged-in": loggedIn, "pre-login": anonymous} {
		cl.setSession(old)
		if got := cl.body("GET", "/me"); got != `user="" cart=[] visits=0` {
			t.Errorf("replayed %s cookie after logout: got %s", name, got)
		}
	}
}

func TestCookieReachesTheClient(t *testing.T) {
	t.Parallel()
	a := newApp(t, keycard.Config{})
	for _, c := range []struct {
		name, method, path string
		status             int
		body               string
	}{
		{"when the handler writes nothing", "POST", "/silent", http.StatusOK, ""},
		{"when the handler only sets a status", "POST", "/created", http.StatusCreated, ""},
		{"when the handler streams", "GET", "/stream", http.StatusOK, "chunk"},
		{"when the handler renders JSON", "POST", "/login?user=bob", http.StatusOK, `{"user":"bob"}`},
		{"when the handler returns an error", "POST", "/fail", http.StatusTeapot, `{"message":"no coffee"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cl := a.client(t)
			res, body := cl.do(c.method, c.path)
			if res.StatusCode != c.status || body != c.body {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, c.status, c.body)
			}
			if cl.session() == "" {
				t.Fatalf("no session cookie; Set-Cookie: %q", res.Header.Values("Set-Cookie"))
			}
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			if got := cl.body("GET", "/me"); !strings.HasPrefix(got, "user=") {
				t.Errorf("reading back: got %s", got)
			}
		})
	}
}

func TestChangesAfterTheResponseStarted(t *testing.T) {
	t.Parallel()
	a := newApp(t, keycard.Config{})
	cl := a.client(t)
	if got := cl.body("POST", "/late"); got != "too early" {
		t.Errorf("got %q", got)
	}
	if err := <-a.lateErr; !errors.Is(err, keycard.ErrResponseStarted) {
		t.Errorf("Put after Echo wrote the body: got %v, want ErrResponseStarted", err)
	}
	if cl.session() != "" {
		t.Error("a cookie was set after the response started")
	}
}

func TestPanicIsRecovered(t *testing.T) {
	t.Parallel()
	a := newApp(t, keycard.Config{})
	cl := a.client(t)
	res, _ := cl.do("POST", "/panic")
	if res.StatusCode != http.StatusInternalServerError {
		t.Errorf("status: got %d, want 500 from middleware.Recover", res.StatusCode)
	}
	if cl.session() != "" {
		t.Error("a panicking handler's session was saved")
	}
}

func TestCSRFThroughEcho(t *testing.T) {
	t.Parallel()
	a := newApp(t, keycard.Config{})
	cl := a.client(t)
	token := cl.body("GET", "/form")
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
		before := a.transfers.Load()
		res, _ := cl.do("POST", "/transfer", c.header...)
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, res.StatusCode, c.status)
		}
		want := int64(0)
		if c.status == http.StatusOK {
			want = 1
		}
		if ran := a.transfers.Load() - before; ran != want {
			t.Errorf("%s: handler ran %d times, want %d", c.name, ran, want)
		}
	}
	// Login rotates the token: the old one stops working.
	cl.body("POST", "/login?user=alice")
	if res, _ := cl.do("POST", "/transfer", "X-CSRF-Token", token); res.StatusCode != http.StatusForbidden {
		t.Errorf("pre-login token after login: status %d, want 403", res.StatusCode)
	}
}

func TestStoreFailureAnswers503(t *testing.T) {
	t.Parallel()
	a := newApp(t, keycard.Config{Store: downStore{}})
	for _, c := range []struct{ method, path string }{{"GET", "/stream"}, {"POST", "/created"}, {"POST", "/fail"}} {
		res, body := a.client(t).do(c.method, c.path)
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

// TestWrapMiddlewareSavesAPanickingHandler pins the behaviour of
// echo.WrapMiddleware that Wrap avoids, as the package doc describes.
func TestWrapMiddlewareSavesAPanickingHandler(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		mw        func(*keycard.Manager) echo.MiddlewareFunc
		wantSaved bool
	}{
		{"echokeycard.Middleware saves nothing", echokeycard.Middleware, false},
		{"echo.WrapMiddleware saves the changes", func(m *keycard.Manager) echo.MiddlewareFunc {
			return echo.WrapMiddleware(m.Handler)
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, _ := keycard.New(keycard.Config{})
			e := echo.New()
			e.Use(middleware.Recover(), c.mw(m))
			e.POST("/panic", func(c *echo.Context) error {
				echokeycard.FromContext(c).Put("theme", "dark")
				panic("handler bug")
			})
			w := httptest.NewRecorder()
			e.ServeHTTP(w, httptest.NewRequest("POST", "/panic", nil))
			if w.Code != http.StatusInternalServerError {
				t.Errorf("status: got %d, want 500", w.Code)
			}
			if saved := len(w.Result().Cookies()) > 0; saved != c.wantSaved {
				t.Errorf("session saved: got %v, want %v", saved, c.wantSaved)
			}
		})
	}
}
