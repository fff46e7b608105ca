package csrf_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
)

// site is the origin the test application is served from.
const site = "https://app.example.com"

var siteURL, _ = url.Parse(site)

// app is a keycard Manager with the csrf middleware around a small mux,
// served in memory as m.Handler(p.Handler(mux)).
type app struct {
	m *keycard.Manager
	p *csrf.Protection
	h http.Handler

	writes atomic.Int64 // state-changing handler runs

	mu     sync.Mutex
	events []event.Event
}

// newApp returns an app with the default memory store and cfg.
func newApp(t *testing.T, cfg csrf.Config) *app {
	t.Helper()
	return newAppWith(t, keycard.Config{}, cfg)
}

// newAppWith returns an app whose Manager has kcfg (OnEvent is replaced).
func newAppWith(t *testing.T, kcfg keycard.Config, cfg csrf.Config) *app {
	t.Helper()
	a := &app{}
	kcfg.OnEvent = func(ev event.Event) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.events = append(a.events, ev)
	}
	m, err := keycard.New(kcfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.m, a.p = m, p

	mux := http.NewServeMux()
	// A page with a form: the only route that issues tokens.
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, csrf.Token(r))
	})
	// A page that ignores the session.
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions && r.Method != http.MethodTrace {
			a.writes.Add(1)
		}
		fmt.Fprint(w, "plain")
	})
	// A state-changing action.
	mux.HandleFunc("/submit", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		keycard.FromContext(r.Context()).Put("submitted", r.Method)
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%s|%s", b, r.PostFormValue("text"))
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		fmt.Fprintf(w, "%s|%s", r.PostFormValue("text"), b)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		s := keycard.FromContext(r.Context())
		if err := m.Login(r.Context(), s, "alice"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if tok, err := m.Token(s); err == nil && kcfg.Header != "" {
			w.Header().Set("X-Test-Session", tok) // for header-carrier clients
		}
		fmt.Fprint(w, "logged in")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		if err := m.Logout(r.Context(), keycard.FromContext(r.Context())); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "logged out")
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, keycard.FromContext(r.Context()).UserID())
	})
	// A state-changing route beside a webhook subtree, for bypass tests.
	mux.HandleFunc("POST /hooks", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		fmt.Fprint(w, "hooks")
	})
	mux.HandleFunc("POST /hooks/", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		fmt.Fprint(w, "webhook")
	})
	a.h = m.Handler(p.Handler(mux))
	return a
}

// csrfEvents returns the csrf.EventRejected events so far and forgets them.
func (a *app) csrfEvents() []event.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	var evs []event.Event
	for _, ev := range a.events {
		if ev.Kind == csrf.EventRejected {
			evs = append(evs, ev)
		}
	}
	a.events = nil
	return evs
}

// browser is one client of the app, with its own cookie jar.
type browser struct {
	t   *testing.T
	a   *app
	jar *cookiejar.Jar
}

func (a *app) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, a: a, jar: jar}
}

// response is what a request got back.
type response struct {
	code    int
	body    string
	cookies []*http.Cookie
}

// do sends req with the browser's cookies and keeps the cookies it gets.
func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	for _, c := range b.jar.Cookies(siteURL) {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.a.h.ServeHTTP(w, req)
	res := w.Result()
	b.jar.SetCookies(siteURL, res.Cookies())
	body, _ := io.ReadAll(res.Body)
	return response{code: res.StatusCode, body: string(body), cookies: res.Cookies()}
}

// token loads the form page and returns the token it carries.
func (b *browser) token() string {
	b.t.Helper()
	res := b.do(httptest.NewRequest(http.MethodGet, site+"/form", nil))
	if res.code != http.StatusOK || res.body == "" {
		b.t.Fatalf("GET /form: %d %q", res.code, res.body)
	}
	return res.body
}

// store makes the browser's session a stored one: it loads a form and
// posts its token to /submit, which puts a value in the session.
func (b *browser) store() {
	b.t.Helper()
	res := b.do(req(http.MethodPost, "/submit", nil, "X-CSRF-Token: "+b.token()))
	if res.code != http.StatusOK || b.cookie(keycard.DefaultCookieName) == "" {
		b.t.Fatalf("POST /submit: %d %q, and no session cookie", res.code, res.body)
	}
}

// cookie returns the value of the browser's cookie name, or "".
func (b *browser) cookie(name string) string {
	for _, c := range b.jar.Cookies(siteURL) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// req builds a request to path; hdr holds extra headers, as "Name: value".
func req(method, path string, body io.Reader, hdr ...string) *http.Request {
	r := httptest.NewRequest(method, site+path, body)
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Set(k, v)
	}
	return r
}

// formReq builds a POST of form to path.
func formReq(path string, form url.Values, hdr ...string) *http.Request {
	r := req(http.MethodPost, path, strings.NewReader(form.Encode()), hdr...)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// multipartReq builds a multipart POST of fields and one file to path.
func multipartReq(t *testing.T, path string, fields map[string]string, file string) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", "file.txt")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, file)
	mw.Close()
	r := req(http.MethodPost, path, &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r
}

// wantCode fails the test if res.code is not want.
func wantCode(t *testing.T, res response, want int) {
	t.Helper()
	if res.code != want {
		t.Fatalf("got %d %q, want %d", res.code, res.body, want)
	}
}

// wantReason fails the test unless exactly one csrf.EventRejected with reason was
// emitted since the last call.
func (a *app) wantReason(t *testing.T, reason event.Reason) event.Event {
	t.Helper()
	evs := a.csrfEvents()
	if len(evs) != 1 || evs[0].Reason != reason {
		t.Fatalf("got events %+v, want one %s %q", evs, csrf.EventRejected, reason)
	}
	return evs[0]
}

// wantNoEvents fails the test if a csrf.EventRejected was emitted.
func (a *app) wantNoEvents(t *testing.T) {
	t.Helper()
	if evs := a.csrfEvents(); len(evs) != 0 {
		t.Fatalf("got events %+v, want none", evs)
	}
}
