// Package attack drives attacks against a real HTTPS server built from
// Keycard's packages (keycard with its memory store, csrf, token and
// guard), through real http.Clients, and checks what the attacker gets.
// Every Set-Cookie any client receives is checked by the transport, and
// the last test sweeps every log line and response body of the run for
// every credential and key the run produced. docs/SECURITY.md maps the
// tests to the requirements they prove.
//
// The tests run one after the other, in file order (the sweep, in
// zz_sweep_test.go, last); do not run them with -shuffle.
package attack

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/guard"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/token"
)

const (
	cookieName = keycard.DefaultCookieName
	issuer     = "https://auth.attack.test"
	audience   = "https://api.attack.test"
	// unauthorized is the body of every 401 of the app and of
	// token.Middleware.
	unauthorized = `{"error":"unauthorized"}`
)

// password is the one password of each test user.
func password(user string) string { return "pw-" + user + "-correct horse" }

// ---------------------------------------------------------------------
// What the whole run saw, for the final sweep.

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// secret is a credential or key the run produced, and the responses
// whose bodies legitimately carried it (none: it may appear in no body).
// A refresh token's successor can be delivered more than once (the grace
// window), so it has several.
type secret struct {
	what    string
	value   []byte
	origins map[int64]bool
}

// body is one response body a client received.
type body struct {
	id   int64
	url  string
	text string
}

// runRecord is everything the run produced that the sweep looks at.
type runRecord struct {
	logs lockedBuffer // every log line of every app and server

	mu         sync.Mutex
	bodies     []body
	secrets    map[string]*secret // by kind and value
	setCookies int                // Set-Cookie lines checked by the transport
	responses  int64
}

var run = &runRecord{secrets: map[string]*secret{}}

// addSecret records a secret, and origin (if not 0) as a response whose
// body may carry it.
func (r *runRecord) addSecret(what string, value []byte, origin int64) {
	if len(value) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := what + "\x00" + string(value)
	s, ok := r.secrets[k]
	if !ok {
		s = &secret{what: what, value: bytes.Clone(value), origins: map[int64]bool{}}
		r.secrets[k] = s
	}
	if origin != 0 {
		s.origins[origin] = true
	}
}

func (r *runRecord) addBody(id int64, u, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, body{id, u, text})
}

// ---------------------------------------------------------------------
// The store: memory, with call counts and a switch that takes it down.

var errStoreDown = errors.New("attack store: connection refused")

type faultStore struct {
	*memory.Store
	down                           atomic.Bool // every call fails at once
	stall                          atomic.Bool // every call waits for its context to end
	loads, saves, deletes, touches atomic.Int64
}

// NeverBlocks reports false: a stalled faultStore waits, so the Manager
// must bound its calls (Config.StoreTimeout), although the memory store it
// embeds never blocks.
func (s *faultStore) NeverBlocks() bool { return false }

// fault returns the error of a call while the store is down or stalled.
func (s *faultStore) fault(ctx context.Context) error {
	if s.stall.Load() {
		<-ctx.Done()
		return fmt.Errorf("attack store: stalled: %w", ctx.Err())
	}
	if s.down.Load() {
		return errStoreDown
	}
	return nil
}

func (s *faultStore) Load(ctx context.Context, key string) (*store.Record, error) {
	s.loads.Add(1)
	if err := s.fault(ctx); err != nil {
		return nil, err
	}
	return s.Store.Load(ctx, key)
}

// LoadRecord counts and fails as Load does: the Manager loads sessions
// through it, and the embedded store's would bypass Load.
func (s *faultStore) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	s.loads.Add(1)
	if err := s.fault(ctx); err != nil {
		return err
	}
	return s.Store.LoadRecord(ctx, key, rec)
}

func (s *faultStore) Save(ctx context.Context, key string, rec *store.Record) error {
	s.saves.Add(1)
	if err := s.fault(ctx); err != nil {
		return err
	}
	return s.Store.Save(ctx, key, rec)
}

func (s *faultStore) Delete(ctx context.Context, key string) error {
	s.deletes.Add(1)
	if err := s.fault(ctx); err != nil {
		return err
	}
	return s.Store.Delete(ctx, key)
}

func (s *faultStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	s.touches.Add(1)
	if err := s.fault(ctx); err != nil {
		return err
	}
	return s.Store.Touch(ctx, key, lastSeen, expires)
}

func (s *faultStore) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	if err := s.fault(ctx); err != nil {
		return nil, err
	}
	return s.Store.ListUser(ctx, userID)
}

func (s *faultStore) DeleteUser(ctx context.Context, userID string) (int, error) {
	if err := s.fault(ctx); err != nil {
		return 0, err
	}
	return s.Store.DeleteUser(ctx, userID)
}

// ---------------------------------------------------------------------
// The application under attack.

// appConfig is what a test may change about the app before it starts.
type appConfig struct {
	keycard keycard.Config
	token   token.Config
	guard   guard.Config
	// logLevel is the level of the app's logger; Debug by default.
	logLevel slog.Level
}

// app is a small web application built from Keycard's packages, served
// over TLS on 127.0.0.1 by a real http.Server.
type app struct {
	t      *testing.T
	cfg    appConfig
	st     *faultStore
	keys   []keycard.Key
	jwtKey ed25519.PrivateKey
	jwks   *token.KeySet
	logs   *lockedBuffer // this app's log lines (also in run.logs)
	logger *slog.Logger

	m   *keycard.Manager
	p   *csrf.Protection
	iss *token.Issuer
	lim *guard.Limiter

	handler atomic.Pointer[http.Handler] // what the server serves; swapped by key rotation
	writes  atomic.Int64                 // state-changing handler runs
	srv     *httptest.Server
}

// newApp builds the app, applies opts to its configuration, and starts
// serving it. The server stops when the test ends.
func newApp(t *testing.T, opts ...func(*appConfig)) *app {
	t.Helper()
	a := &app{t: t, logs: &lockedBuffer{}}
	a.st = &faultStore{Store: memory.New(memory.Config{})}
	a.keys = []keycard.Key{keycard.NewKey()}
	_, a.jwtKey, _ = ed25519.GenerateKey(rand.Reader)
	jwtKey, err := token.NewPrivateKey("k1", a.jwtKey)
	if err != nil {
		t.Fatal(err)
	}
	if a.jwks, err = token.NewKeySet(jwtKey); err != nil {
		t.Fatal(err)
	}
	a.cfg = appConfig{
		keycard: keycard.Config{Store: a.st, Keys: a.keys},
		token: token.Config{Issuer: issuer, Audience: audience, Keys: a.jwks, RefreshKey: keycard.NewKey(),
			RefreshIdle: time.Hour, RefreshLifetime: 2 * time.Hour},
		guard:    guard.Config{Limit: 5, NetworkLimit: 5, Window: time.Minute},
		logLevel: slog.LevelDebug,
	}
	for _, o := range opts {
		o(&a.cfg)
	}
	a.logger = slog.New(slog.NewJSONHandler(io.MultiWriter(a.logs, &run.logs), &slog.HandlerOptions{Level: a.cfg.logLevel}))
	a.cfg.keycard.Logger = a.logger
	for _, k := range a.cfg.keycard.Keys {
		run.addSecret("session key", k, 0)
	}
	run.addSecret("refresh key", a.cfg.token.RefreshKey, 0)
	run.addSecret("JWT signing key", a.jwtKey.Seed(), 0)
	a.build(a.cfg.keycard)

	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*a.handler.Load()).ServeHTTP(w, r)
	}))
	a.srv.Config.MaxHeaderBytes = 64 << 10
	a.srv.Config.ErrorLog = log.New(io.MultiWriter(a.logs, &run.logs), "http: ", 0)
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

// build makes the Manager, CSRF protection, token issuer and login
// limiter for kcfg, and serves them. Key rotation calls it again with new
// keys over the same store.
func (a *app) build(kcfg keycard.Config) {
	t := a.t
	t.Helper()
	m, err := keycard.New(kcfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(m, csrf.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p.AddInsecureBypassPattern("POST /token") // authenticated by the refresh token in its body
	iss, err := token.New(m, a.cfg.token)
	if err != nil {
		t.Fatal(err)
	}
	gcfg := a.cfg.guard
	gcfg.Manager = m
	a.m, a.p, a.iss, a.lim = m, p, iss, guard.New(gcfg)
	h := m.Handler(p.Handler(a.routes()))
	a.handler.Store(&h)
}

// routes is the application: pages, a login form, an API.
func (a *app) routes() *http.ServeMux {
	m, iss := a.m, a.iss
	mux := http.NewServeMux()
	jsonOK := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	deny := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, unauthorized+"\n")
	}
	// An anonymous page that starts a session (a visit counter).
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		n, _ := keycard.Get[int](s, "visits")
		s.Put("visits", n+1)
		io.WriteString(w, "home")
	})
	// The only page that hands out CSRF tokens.
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, csrf.Token(r))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		s := keycard.FromContext(r.Context())
		user := r.PostFormValue("user")
		if wait, err := a.lim.Check(r.Context(), user, r); err != nil || wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+1)))
			http.Error(w, "too many attempts", http.StatusTooManyRequests)
			return
		}
		if user == "" || r.PostFormValue("password") != password(user) {
			a.lim.Fail(r.Context(), user, r)
			deny(w)
			return
		}
		a.lim.Succeed(r.Context(), user, r)
		if err := m.Login(r.Context(), s, user); err != nil {
			http.Error(w, "login failed", http.StatusServiceUnavailable)
			return
		}
		if r.PostFormValue("remember") == "1" {
			m.RememberMe(s, true)
		}
		out := map[string]any{"user": user}
		if r.PostFormValue("api") == "1" {
			p, err := iss.Issue(r.Context(), s)
			if err != nil {
				http.Error(w, "login failed", http.StatusServiceUnavailable)
				return
			}
			out["access_token"], out["refresh_token"], out["expires_in"] = p.AccessToken, p.RefreshToken, int(p.ExpiresIn/time.Second)
		}
		jsonOK(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		if s.UserID() == "" {
			deny(w)
			return
		}
		jsonOK(w, http.StatusOK, map[string]any{"user": s.UserID(), "created": s.Info().Created})
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		if err := m.Logout(r.Context(), keycard.FromContext(r.Context())); err != nil {
			http.Error(w, "logout failed", http.StatusServiceUnavailable)
			return
		}
		jsonOK(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc("POST /renew", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		if err := m.Renew(r.Context(), keycard.FromContext(r.Context())); err != nil {
			http.Error(w, "renew failed", http.StatusServiceUnavailable)
			return
		}
		jsonOK(w, http.StatusOK, map[string]bool{"ok": true})
	})
	// A state-changing action: keep a blob in the session.
	mux.HandleFunc("POST /put", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		s := keycard.FromContext(r.Context())
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := s.Put("blob", string(b)); errors.Is(err, keycard.ErrTooLarge) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		} else if err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		jsonOK(w, http.StatusOK, map[string]bool{"ok": true})
	})
	// A password change that logs out every other session of the user and
	// keeps this one, re-authenticated under a new ID: Login first (a
	// RevokeUser first would end this session too, and Login would then
	// report ErrSessionGone), then Revoke every other session by hash.
	mux.HandleFunc("POST /password", func(w http.ResponseWriter, r *http.Request) {
		a.writes.Add(1)
		s := keycard.FromContext(r.Context())
		user := s.UserID()
		if user == "" {
			deny(w)
			return
		}
		if err := m.Login(r.Context(), s, user); err != nil {
			a.logger.Error("password change: login", "err", err)
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		infos, err := m.Sessions(r.Context(), user)
		if err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		for _, in := range infos {
			if in.Hash != s.Info().Hash {
				if err := m.Revoke(r.Context(), in.Hash); err != nil {
					http.Error(w, "unavailable", http.StatusServiceUnavailable)
					return
				}
			}
		}
		jsonOK(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.Handle("POST /token", iss.RefreshHandler())
	mux.Handle("GET /.well-known/jwks.json", iss.JWKS())
	api := func(w http.ResponseWriter, r *http.Request) {
		c, _ := token.ClaimsFromContext(r.Context())
		jsonOK(w, http.StatusOK, map[string]string{"user": c.Subject})
	}
	mux.Handle("GET /api/me", iss.Middleware(true)(http.HandlerFunc(api)))
	mux.Handle("GET /api/lax", iss.Middleware(false)(http.HandlerFunc(api)))
	return mux
}

// events counts the app's logged events of kind (and reason, if not "").
func (a *app) events(kind string, reason event.Reason) int {
	n := 0
	for _, line := range strings.Split(a.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec["event"] == kind && (reason == "" || rec["reason"] == string(reason)) {
			n++
		}
	}
	return n
}

// stored reports whether the store holds a live session for cookie
// value v (not counting the short-lived marker a renewal leaves under the
// old ID, which gives no access).
func (a *app) stored(v string) bool {
	id, ok := cookieID(v)
	if !ok {
		return false
	}
	rec, err := a.st.Store.Load(context.Background(), storeKey(id))
	return err == nil && !keycard.IsTombstone(rec)
}

// ---------------------------------------------------------------------
// The cookie format, from docs/ARCHITECTURE.md: base64url (no padding) of
// version (1) | key ID (4) | session ID (32) | HMAC-SHA256 tag (32).

var b64 = base64.RawURLEncoding.Strict()

func cookieID(v string) ([]byte, bool) {
	raw, err := b64.DecodeString(v)
	if err != nil || len(raw) != 69 {
		return nil, false
	}
	return raw[5:37], true
}

func cookieKeyID(v string) []byte {
	raw, _ := b64.DecodeString(v)
	if len(raw) != 69 {
		return nil
	}
	return raw[1:5]
}

// storeKey is the store key of a session ID: hex SHA-256.
func storeKey(id []byte) string {
	sum := sha256.Sum256(id)
	return hex.EncodeToString(sum[:])
}

// randomCookie returns a well-formed cookie value (right length, version
// and key ID) with a random ID and tag.
func randomCookie(kid []byte) (string, []byte) {
	raw := make([]byte, 69)
	rand.Read(raw)
	raw[0] = 1
	copy(raw[1:5], kid)
	return b64.EncodeToString(raw), raw[5:37]
}

// ---------------------------------------------------------------------
// Clients.

// checkingTransport checks every response any client of the run gets:
// every Set-Cookie has the session cookie's safe attributes, responses
// that set one are not cacheable, and no response allows cross-origin
// reads. It records bodies for the final sweep.
type checkingTransport struct {
	t           *testing.T
	base        http.RoundTripper
	remembered  *sync.Map // cookie values of remembered sessions
	rememberMax time.Duration
}

func (c *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	id := atomic.AddInt64(&run.responses, 1)
	res.Header.Set("X-Attack-Response", strconv.FormatInt(id, 10))
	run.addBody(id, req.URL.Path, string(b))
	c.check(req, res)
	return res, nil
}

func (c *checkingTransport) check(req *http.Request, res *http.Response) {
	t := c.t
	what := req.Method + " " + req.URL.Path
	for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"} {
		if v := res.Header.Get(h); v != "" {
			t.Errorf("%s: %s: %s (S-60)", what, h, v)
		}
	}
	lines := res.Header.Values("Set-Cookie")
	if len(lines) == 0 {
		return
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Set-Cookie with Cache-Control %q, want no-store (S-13)", what, cc)
	}
	presented := ""
	if ck, err := req.Cookie(cookieName); err == nil {
		presented = ck.Value
	}
	_, wasRemembered := c.remembered.Load(presented)
	for _, line := range lines {
		run.mu.Lock()
		run.setCookies++
		run.mu.Unlock()
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Errorf("%s: unparsable Set-Cookie %q: %v", what, line, err)
			continue
		}
		visitor := ck.Name == csrf.VisitorCookieName
		if ck.Name != cookieName && !visitor || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode ||
			ck.Path != "/" || ck.Domain != "" || strings.Contains(strings.ToLower(line), "domain=") {
			t.Errorf("%s: Set-Cookie %q, want __Host-keycard or __Host-keycard-csrf with Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain (S-06, S-07, S-08)", what, line)
		}
		if visitor {
			if ck.MaxAge > 0 || strings.Contains(strings.ToLower(line), "expires=") {
				t.Errorf("%s: a persistent visitor cookie: %q", what, line)
			}
			run.addSecret("visitor cookie", []byte(ck.Value), 0)
			continue
		}
		switch {
		case ck.MaxAge < 0:
			if ck.Value != "" {
				t.Errorf("%s: a deletion cookie with a value: %q", what, line)
			}
		case ck.MaxAge > 0:
			if req.Header.Get("X-Attack-Remember") != "1" && !wasRemembered {
				t.Errorf("%s: a persistent cookie for a session not remembered: %q (S-09)", what, line)
			}
			if time.Duration(ck.MaxAge)*time.Second > c.rememberMax {
				t.Errorf("%s: Max-Age %d past the remember-me lifetime %v (S-09)", what, ck.MaxAge, c.rememberMax)
			}
			c.remembered.Store(ck.Value, true)
		default:
			if strings.Contains(strings.ToLower(line), "expires=") {
				t.Errorf("%s: a browser-session cookie with Expires: %q (S-09)", what, line)
			}
		}
		if ck.Value != "" {
			run.addSecret("session cookie", []byte(ck.Value), 0)
			if id, ok := cookieID(ck.Value); ok {
				run.addSecret("session ID", id, 0)
			}
		}
	}
}

// client is one user agent: an http.Client with its own cookie jar and
// the checking transport.
type client struct {
	t   *testing.T
	a   *app
	hc  *http.Client
	jar *cookiejar.Jar
	url *url.URL
}

var remembered sync.Map

func (a *app) client() *client {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(a.srv.URL)
	rememberMax := a.cfg.keycard.RememberMe.Absolute
	if rememberMax == 0 {
		rememberMax = 30 * 24 * time.Hour
	}
	tr := &checkingTransport{t: a.t, base: a.srv.Client().Transport, remembered: &remembered, rememberMax: rememberMax}
	return &client{t: a.t, a: a, jar: jar, url: u, hc: &http.Client{
		Transport: tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is what a request got.
type response struct {
	code   int
	body   string
	header http.Header
	id     int64 // the run's number of this response
}

func (r response) String() string { return fmt.Sprintf("%d %.200q", r.code, r.body) }

// json decodes the body into a map.
func (r response) json() map[string]any {
	var m map[string]any
	json.Unmarshal([]byte(r.body), &m)
	return m
}

// newRequest builds a request; hdr holds extra headers as "Name: value".
func (c *client) newRequest(method, path string, body io.Reader, hdr ...string) *http.Request {
	req, err := http.NewRequest(method, c.a.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	return req
}

// try sends req through the client and returns the response; it may be
// called from any goroutine.
func (c *client) try(req *http.Request) (response, error) {
	res, err := c.hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	id, _ := strconv.ParseInt(res.Header.Get("X-Attack-Response"), 10, 64)
	return response{code: res.StatusCode, body: string(b), header: res.Header, id: id}, err
}

// do sends req through the client and returns the response.
func (c *client) do(req *http.Request) response {
	c.t.Helper()
	res, err := c.try(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return res
}

// tryLogin logs user in from any goroutine.
func (c *client) tryLogin(user string) (response, error) {
	res, err := c.try(c.newRequest("GET", "/form", nil))
	if err != nil || res.code != http.StatusOK {
		return res, fmt.Errorf("GET /form: %d %v", res.code, err)
	}
	run.addSecret("CSRF token", []byte(res.body), res.id)
	form := url.Values{"user": {user}, "password": {password(user)}, "csrf_token": {res.body}}
	req := c.newRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.try(req)
}

func (c *client) get(path string, hdr ...string) response {
	c.t.Helper()
	return c.do(c.newRequest("GET", path, nil, hdr...))
}

// post sends a form.
func (c *client) post(path string, form url.Values, hdr ...string) response {
	c.t.Helper()
	req := c.newRequest("POST", path, strings.NewReader(form.Encode()), hdr...)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// token loads the form page and returns its CSRF token, recording the
// token and the secret it masks.
func (c *client) token() string {
	c.t.Helper()
	res := c.get("/form")
	if res.code != http.StatusOK || res.body == "" {
		c.t.Fatalf("GET /form: %v", res)
	}
	run.addSecret("CSRF token", []byte(res.body), res.id)
	if raw, err := b64.DecodeString(res.body); err == nil && len(raw) == 64 {
		sec := make([]byte, 32)
		for i := range sec {
			sec[i] = raw[i] ^ raw[32+i]
		}
		run.addSecret("CSRF secret", sec, 0)
	}
	return res.body
}

// login logs user in with a fresh CSRF token; extra form fields (e.g.
// "remember", "api") are set to "1".
func (c *client) login(user string, flags ...string) response {
	c.t.Helper()
	form := url.Values{"user": {user}, "password": {password(user)}, "csrf_token": {c.token()}}
	var hdr []string
	for _, f := range flags {
		form.Set(f, "1")
		if f == "remember" {
			hdr = append(hdr, "X-Attack-Remember: 1")
		}
	}
	run.addSecret("password", []byte(password(user)), 0)
	res := c.post("/login", form, hdr...)
	if res.code == http.StatusOK {
		m := res.json()
		for _, k := range []string{"access_token", "refresh_token"} {
			if v, ok := m[k].(string); ok {
				run.addSecret(k, []byte(v), res.id)
			}
		}
	}
	return res
}

// mustLogin logs user in and fails the test unless it worked.
func (c *client) mustLogin(user string, flags ...string) response {
	c.t.Helper()
	res := c.login(user, flags...)
	if res.code != http.StatusOK {
		c.t.Fatalf("login %s: %v", user, res)
	}
	return res
}

// action posts form to path with a fresh CSRF token.
func (c *client) action(path string, form url.Values) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", c.token())
	return c.post(path, form)
}

// refresh exchanges a refresh token at the token endpoint.
func (c *client) refresh(rt string) response {
	c.t.Helper()
	res := c.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if res.code == http.StatusOK {
		m := res.json()
		for _, k := range []string{"access_token", "refresh_token"} {
			if v, ok := m[k].(string); ok {
				run.addSecret(k, []byte(v), res.id)
			}
		}
	}
	return res
}

// bearer calls path with an access token.
func (c *client) bearer(path, at string) response {
	c.t.Helper()
	return c.get(path, "Authorization: Bearer "+at)
}

// session returns the client's session cookie value, or "".
func (c *client) session() string {
	for _, ck := range c.jar.Cookies(c.url) {
		if ck.Name == cookieName {
			return ck.Value
		}
	}
	return ""
}

// setSession puts a session cookie value in the client's jar.
func (c *client) setSession(v string) {
	u := *c.url
	c.jar.SetCookies(&u, []*http.Cookie{{Name: cookieName, Value: v, Path: "/", Secure: true, HttpOnly: true}})
}

// raw sends a request with exactly the Cookie header given, bypassing the
// jar.
func (c *client) raw(method, path, cookie string, hdr ...string) response {
	c.t.Helper()
	req := c.newRequest(method, path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	res, err := c.hc.Transport.RoundTrip(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	id, _ := strconv.ParseInt(res.Header.Get("X-Attack-Response"), 10, 64)
	return response{code: res.StatusCode, body: string(b), header: res.Header, id: id}
}

// me returns who the client's session belongs to, or "" for 401.
func (c *client) me() string {
	c.t.Helper()
	res := c.get("/me")
	switch res.code {
	case http.StatusOK:
		u, _ := res.json()["user"].(string)
		return u
	case http.StatusUnauthorized:
		if strings.TrimSpace(res.body) != unauthorized {
			c.t.Errorf("401 body %q", res.body)
		}
		return ""
	}
	c.t.Fatalf("GET /me: %v", res)
	return ""
}

// meWith returns who a raw Cookie header authenticates, or "".
func (c *client) meWith(cookie string) string {
	c.t.Helper()
	res := c.raw("GET", "/me", cookie)
	if res.code == http.StatusOK {
		u, _ := res.json()["user"].(string)
		return u
	}
	if res.code != http.StatusUnauthorized || strings.TrimSpace(res.body) != unauthorized {
		c.t.Errorf("GET /me with %.40q: %v, want 200 or the uniform 401", cookie, res)
	}
	return ""
}

// pair is the tokens of an API login or a refresh.
func pairOf(t *testing.T, res response) (at, rt string) {
	t.Helper()
	m := res.json()
	at, _ = m["access_token"].(string)
	rt, _ = m["refresh_token"].(string)
	if at == "" || rt == "" {
		t.Fatalf("no token pair in %v", res)
	}
	return at, rt
}
