package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

const (
	testIssuer   = "https://auth.example.com"
	testAudience = "https://api.example.com"
)

// events records the events of a Manager.
type events struct {
	mu  sync.Mutex
	all []event.Event
}

func (e *events) add(ev event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

// of returns the recorded events of kind.
func (e *events) of(kind event.Kind) []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []event.Event
	for _, ev := range e.all {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// text returns every recorded event as text, for leak checks.
func (e *events) text() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.all {
		b.WriteString(string(ev.Kind) + " " + string(ev.Reason) + " " + ev.Session + " " + ev.UserID)
		if ev.Err != nil {
			b.WriteString(" " + ev.Err.Error())
		}
		for _, a := range ev.Attrs {
			b.WriteString(" " + a.String())
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// countingStore is a memory store that counts loads and can be made to
// fail.
type countingStore struct {
	*memory.Store
	loads atomic.Int64
	down  atomic.Bool
}

var errDown = errors.New("store down")

func (s *countingStore) Load(ctx context.Context, key string) (*store.Record, error) {
	s.loads.Add(1)
	if s.down.Load() {
		return nil, errDown
	}
	return s.Store.Load(ctx, key)
}

// LoadRecord counts and fails as Load does: the Manager loads sessions
// through it, and the embedded store's would bypass Load.
func (s *countingStore) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	s.loads.Add(1)
	if s.down.Load() {
		return errDown
	}
	return s.Store.LoadRecord(ctx, key, rec)
}

func (s *countingStore) Save(ctx context.Context, key string, r *store.Record) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.Save(ctx, key, r)
}

// env is a Manager and an Issuer over a counting memory store.
type env struct {
	m      *keycard.Manager
	iss    *Issuer
	st     *countingStore
	ev     *events
	key    *PrivateKey
	keys   *KeySet
	mcfg   keycard.Config
	issCfg Config
}

type option func(*env)

func withManager(f func(*keycard.Config)) option { return func(e *env) { f(&e.mcfg) } }
func withIssuer(f func(*Config)) option          { return func(e *env) { f(&e.issCfg) } }

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	key, err := NewEd25519Key("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: &countingStore{Store: memory.New(memory.Config{})}, ev: &events{}, key: key, keys: keys}
	e.mcfg = keycard.Config{Keys: []keycard.Key{keycard.NewKey()}, OnEvent: e.ev.add}
	e.issCfg = Config{Issuer: testIssuer, Audience: testAudience, Keys: keys, RefreshKey: keycard.NewKey()}
	for _, o := range opts {
		o(e)
	}
	e.mcfg.Store = e.st
	if e.m, err = keycard.New(e.mcfg); err != nil {
		t.Fatal(err)
	}
	if e.iss, err = New(e.m, e.issCfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// login logs user in through the Manager's middleware, issues a pair, and
// returns it with the session cookie.
func (e *env) login(t testing.TB, user string) (Pair, *http.Cookie) {
	t.Helper()
	var p Pair
	var err error
	h := e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		if err = e.m.Login(r.Context(), s, user); err != nil {
			return
		}
		if err = e.m.RememberMe(s, true); err != nil {
			return
		}
		p, err = e.iss.Issue(r.Context(), s)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "https://example.com/login", nil))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies, want 1", len(cookies))
	}
	return p, cookies[0]
}

// logout logs the session of cookie out through the middleware.
func (e *env) logout(t testing.TB, c *http.Cookie) {
	t.Helper()
	var err error
	h := e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err = e.m.Logout(r.Context(), keycard.FromContext(r.Context()))
	}))
	req := httptest.NewRequest("POST", "https://example.com/logout", nil)
	req.AddCookie(c)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if err != nil {
		t.Fatalf("logout: %v", err)
	}
}

// claimsOf decodes an access token's payload without verifying it.
func claimsOf(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// headerOf decodes an access token's protected header.
func headerOf(t testing.TB, tok string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// b64 encodes JSON or bytes as a base64url JWS part.
func b64(v any) string {
	switch v := v.(type) {
	case string:
		return base64.RawURLEncoding.EncodeToString([]byte(v))
	case []byte:
		return base64.RawURLEncoding.EncodeToString(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// goodClaims returns the claims of a valid token issued at now.
func goodClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": "alice", "aud": testAudience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": "AAAAAAAAAAAAAAAAAAAAAA", "sid": strings.Repeat("ab", 32),
	}
}

// sign signs claims with k exactly as the Issuer does (same header).
func sign(t testing.TB, k Key, claims any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := k.entry().signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := sig.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
