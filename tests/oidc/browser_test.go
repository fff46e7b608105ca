package rptest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser is a user's browser: a cookie jar and a client that follows
// redirects between the application and the provider, or stops at the
// application's callback (authorize).
type browser struct {
	t      *testing.T
	c      *http.Client
	jar    *cookiejar.Jar
	stopAt string // a path whose redirect is returned, not followed
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, jar: jar}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if b.stopAt != "" && r.URL.Path == b.stopAt {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// do sends a request and returns the response with its body read.
func (b *browser) do(r *http.Request) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Do(r)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	r, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(r)
}

// post sends a form to a, with the anti-forgery token from its /csrf page
// in the header.
func (b *browser) post(a *app, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	_, tok := b.get(a.URL + "/csrf")
	r, _ := http.NewRequest(http.MethodPost, a.URL+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-CSRF-Token", tok)
	return b.do(r)
}

var loginFormID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// authorize starts a sign-in at a's path, signs in at the provider's
// login page, and returns the callback URL the provider redirects to,
// without visiting it, and the provider's authorization request ID.
func (b *browser) authorize(a *app, path string) (*url.URL, string) {
	b.t.Helper()
	res, body := b.get(a.URL + path)
	m := loginFormID.FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		b.t.Fatalf("GET %s ended at %s with %d, not the provider's login form: %.300s", path, res.Request.URL, res.StatusCode, body)
	}
	form := url.Values{"id": {m[1]}, "username": {username}, "password": {password}}
	r, _ := http.NewRequest(http.MethodPost, a.p.URL+"/login/username", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b.stopAt = "/callback"
	defer func() { b.stopAt = "" }()
	res, body = b.do(r)
	loc, err := res.Location()
	if res.StatusCode/100 != 3 || err != nil || loc.Path != "/callback" {
		b.t.Fatalf("the provider's login answered %d (location %v), not a redirect to the callback: %.300s", res.StatusCode, loc, body)
	}
	return loc, m[1]
}

// signIn signs in at a's path and returns the final page's response and
// body, and the provider session ID of the sign-in.
func (b *browser) signIn(a *app, path string) (*http.Response, string, string) {
	b.t.Helper()
	cb, id := b.authorize(a, path)
	res, body := b.get(cb.String())
	return res, body, sidOf(id)
}

// whoami returns what the application knows about the browser's session.
func (b *browser) whoami(a *app) whoami {
	b.t.Helper()
	_, body := b.get(a.URL + "/whoami")
	var w whoami
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		b.t.Fatalf("whoami: %v: %s", err, body)
	}
	return w
}

// cookie returns the value of the application's session cookie.
func (b *browser) cookie(a *app) string {
	u, _ := url.Parse(a.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}
