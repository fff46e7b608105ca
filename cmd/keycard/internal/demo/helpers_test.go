package demo

import (
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/cmd/keycard/internal/keyfile"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/sqlite"
)

func TestMain(m *testing.M) {
	// Cheap password hashes: the tests sign in dozens of times under the
	// race detector.
	argon2Params.time, argon2Params.memory = 1, 64
	os.Exit(m.Run())
}

// eachStore runs fn once with a memory store and once with an SQLite store
// in a temporary directory.
func eachStore(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		st := memory.New(memory.Config{})
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		st, err := sqlite.Open(filepath.Join(t.TempDir(), "sessions.db"), sqlite.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
}

// newServer serves a new demo app over st on 127.0.0.1.
func newServer(t *testing.T, st store.Store) *httptest.Server {
	t.Helper()
	return newServerLogging(t, st, io.Discard)
}

// newServerLogging serves a new demo app over st on 127.0.0.1 that logs
// to log, as text.
func newServerLogging(t *testing.T, st store.Store, log io.Writer) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	now := time.Now()
	app, err := New(Config{
		Store: st, Keys: keyfile.Generate(now), Origin: srv.URL, StoreName: "test",
		Logger: slog.New(slog.NewTextHandler(log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = app
	return srv
}

// client is a browser: it keeps cookies and does not follow redirects on
// its own.
type client struct {
	t     *testing.T
	base  string
	c     *http.Client
	ua    string
	extra *http.Cookie // sent with every request, besides the jar's
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, ua: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", c: &http.Client{
		Jar:           jar,
		Timeout:       time.Minute, // a guard: requests take milliseconds
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.ua)
	}
	if c.extra != nil {
		req.AddCookie(c.extra)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(body)
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post sends a form as a same-origin browser form would.
func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	return c.postFrom("", path, form)
}

// postFrom posts a form from page, which the request names as its
// Referer, as a browser does under the demo's same-origin policy.
func (c *client) postFrom(page, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", c.base)
	if page != "" {
		req.Header.Set("Referer", c.base+page)
	}
	return c.do(req)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// submit loads page, finds the form posting to action, and submits it as
// a browser would: its hidden fields (the CSRF token among them) and the
// given fields.
func (c *client) submit(page, action string, fields url.Values) (*http.Response, string) {
	c.t.Helper()
	_, body := c.get(page)
	i := strings.Index(body, `action="`+action+`"`)
	if i < 0 {
		c.t.Fatalf("no form posting to %s on %s:\n%s", action, page, body)
	}
	formHTML, _, _ := strings.Cut(body[i:], "</form>")
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(formHTML, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	for k, v := range fields {
		form[k] = v
	}
	return c.postFrom(page, action, form)
}

// follow loads the page a 303 response redirects to.
func (c *client) follow(resp *http.Response) (*http.Response, string) {
	c.t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("got status %d, want a 303 redirect", resp.StatusCode)
	}
	return c.get(resp.Header.Get("Location"))
}

// login signs in through the sign-in page and returns the redirect.
func (c *client) login(user, password string, remember bool) (*http.Response, string) {
	c.t.Helper()
	form := url.Values{"username": {user}, "password": {password}}
	if remember {
		form.Set("remember", "1")
	}
	return c.submit("/login", "/login", form)
}

// setCookie makes the client send a cookie, as a replayed or stolen one.
func (c *client) setCookie(name, value string) { c.extra = &http.Cookie{Name: name, Value: value} }

// cookie returns the value of the named cookie the client holds.
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// ageSignIns moves the sign-in time of every stored session of userID d
// into the past, as if the user had signed in that long ago.
func ageSignIns(t *testing.T, st store.Store, userID string, d time.Duration) {
	t.Helper()
	ctx := t.Context()
	var keys []string
	err := st.(store.Scanner).Scan(ctx, func(e store.Entry) error {
		if e.Record.UserID == userID {
			keys = append(keys, e.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		rec, err := st.Load(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		rec.AuthTime = rec.AuthTime.Add(-d)
		if err := st.Save(ctx, k, rec); err != nil {
			t.Fatal(err)
		}
	}
}

var footerHash = regexp.MustCompile(`Browser session <code>([0-9a-f]{12})…</code>`)

// hashOf returns the session hash prefix a page's footer shows, or "".
func hashOf(body string) string {
	if m := footerHash.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// formToken returns the CSRF token of the form that posts to action.
func formToken(t *testing.T, body, action string) string {
	t.Helper()
	i := strings.Index(body, `action="`+action+`"`)
	if i < 0 {
		t.Fatalf("no form posting to %s in:\n%s", action, body)
	}
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body[i:])
	if m == nil {
		t.Fatalf("no CSRF token in the form posting to %s", action)
	}
	return m[1]
}

func wantStatus(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: got status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want)
	}
}

func wantContains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page does not contain %q", w)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
		t.FailNow()
	}
}
