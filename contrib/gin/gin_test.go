package ginkeycard_test

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

	"github.com/gin-gonic/gin"
	"github.com/keycard-go/keycard"
	ginkeycard "github.com/keycard-go/keycard/contrib/gin"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/store"
)

func init() { gin.SetMode(gin.TestMode) }

// app is a gin engine with Keycard and csrf middleware and the routes the
// tests drive.
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
	r := gin.New()
	r.Use(gin.Recovery(), ginkeycard.Middleware(m))

	r.POST("/cart", func(c *gin.Context) {
		items, err := keycard.Update(c.Request.Context(), ginkeycard.FromContext(c), "cart",
			func(items []string) []string { return append(items, c.Query("item")) })
		if err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.String(http.StatusOK, "%d", len(items))
	})
	r.POST("/login", func(c *gin.Context) {
		s := ginkeycard.FromContext(c)
		if err := m.Login(c.Request.Context(), s, c.Query("user")); err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"user": s.UserID()})
	})
	r.GET("/me", func(c *gin.Context) {
		s := ginkeycard.FromContext(c)
		cart, _ := keycard.Get[[]string](s, "cart")
		visits, _ := keycard.Get[int](s, "visits")
		c.String(http.StatusOK, "user=%q cart=%v visits=%d", s.UserID(), cart, visits)
	})
	r.POST("/visit", func(c *gin.Context) {
		n, err := keycard.Update(c.Request.Context(), ginkeycard.FromContext(c), "visits",
			func(n int) int { return n + 1 })
		if err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.String(http.StatusOK, "%d", n)
	})
	r.POST("/logout", func(c *gin.Context) {
		m.Logout(c.Request.Context(), ginkeycard.FromContext(c))
		c.Status(http.StatusNoContent)
	})
	r.POST("/silent", func(c *gin.Context) {
		ginkeycard.FromContext(c).Put("theme", "dark") // and no response at all
	})
	r.POST("/created", func(c *gin.Context) {
		ginkeycard.FromContext(c).Put("theme", "dark")
		c.Status(http.StatusCreated)
	})
	r.GET("/stream", func(c *gin.Context) {
		ginkeycard.FromContext(c).Put("theme", "dark")
		c.Stream(func(w io.Writer) bool {
			fmt.Fprint(w, "chunk")
			return false
		})
	})
	r.POST("/late", func(c *gin.Context) {
		c.String(http.StatusOK, "too early")
		a.lateErr <- ginkeycard.FromContext(c).Put("theme", "dark")
	})
	r.POST("/panic", func(c *gin.Context) {
		ginkeycard.FromContext(c).Put("theme", "dark")
		panic("handler bug")
	})

	// CSRF through gin: only the routes of this group are protected.
	protected := r.Group("/", ginkeycard.Wrap(p.Handler))
	protected.GET("/form", func(c *gin.Context) {
		c.String(http.StatusOK, csrf.Token(c.Request))
	})
	protected.POST("/transfer", func(c *gin.Context) {
		a.transfers.Add(1)
		c.String(http.StatusOK, "done")
	})

	a.ts = httptest.NewTLSServer(r)
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
	// A copy of the logged-in cookie no longer works.
	cl.setSession(loggedIn)
	if got := cl.body("GET", "/me"); got != `user="" cart=[] visits=0` {
		t.Errorf("replayed cookie after logout: got %s", got)
	}
	cl.setSession(anonymous)
	if got := cl.body("GET", "/me"); got != `user="" cart=[] visits=0` {
		t.Errorf("replayed pre-login cookie: got %s", got)
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
		t.Errorf("Put after gin wrote the body: got %v, want ErrResponseStarted", err)
	}
	if cl.session() != "" {
		t.Error("a cookie was set after the response started")
	}
}

func TestPanicSavesNothing(t *testing.T) {
	t.Parallel()
	a := newApp(t, keycard.Config{})
	cl := a.client(t)
	res, _ := cl.do("POST", "/panic")
	if res.StatusCode != http.StatusInternalServerError {
		t.Errorf("status: got %d, want 500 from gin.Recovery", res.StatusCode)
	}
	if cl.session() != "" {
		t.Error("a panicking handler's session was saved")
	}
}

func TestCSRFThroughGin(t *testing.T) {
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
		ran := a.transfers.Load() - before
		if want := int64(0); c.status == http.StatusOK {
			want = 1
			if ran != want {
				t.Errorf("%s: handler ran %d times, want %d", c.name, ran, want)
			}
		} else if ran != 0 {
			t.Errorf("%s: the chain went on after csrf answered (handler ran %d times)", c.name, ran)
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
	for _, path := range []string{"/stream", "/created"} {
		res, body := a.client(t).do(map[string]string{"/stream": "GET", "/created": "POST"}[path], path)
		if res.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, "chunk") {
			t.Errorf("%s: got %d %q, want 503 without the handler's output", path, res.StatusCode, body)
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

// TestRecoveryPlacement pins what the package doc says about where
// gin.Recovery goes.
func TestRecoveryPlacement(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		chain     func(*keycard.Manager) []gin.HandlerFunc
		wantSaved bool
	}{
		{"Recovery outside the session saves nothing", func(m *keycard.Manager) []gin.HandlerFunc {
			return []gin.HandlerFunc{gin.Recovery(), ginkeycard.Middleware(m)}
		}, false},
		{"Recovery inside the session saves the changes", func(m *keycard.Manager) []gin.HandlerFunc {
			return []gin.HandlerFunc{ginkeycard.Middleware(m), gin.Recovery()}
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, _ := keycard.New(keycard.Config{})
			r := gin.New()
			r.Use(c.chain(m)...)
			r.POST("/panic", func(c *gin.Context) {
				ginkeycard.FromContext(c).Put("theme", "dark")
				panic("handler bug")
			})
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest("POST", "/panic", nil))
			if w.Code != http.StatusInternalServerError {
				t.Errorf("status: got %d, want 500", w.Code)
			}
			if saved := len(w.Result().Cookies()) > 0; saved != c.wantSaved {
				t.Errorf("session saved: got %v, want %v", saved, c.wantSaved)
			}
		})
	}
}
