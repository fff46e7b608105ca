package keycard

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// countingStore counts the calls a Manager makes and can be told to fail.
type countingStore struct {
	store.Store
	loads, saves, deletes, touches atomic.Int64
	fail                           atomic.Bool
	failErr                        error
}

func newCountingStore() *countingStore {
	return &countingStore{Store: memory.New(memory.Config{}), failErr: errDown}
}

var errDown = &downError{}

type downError struct{}

func (*downError) Error() string { return "test store: connection refused" }

func (c *countingStore) Load(ctx context.Context, key string) (*store.Record, error) {
	c.loads.Add(1)
	if c.fail.Load() {
		return nil, c.failErr
	}
	return c.Store.Load(ctx, key)
}

func (c *countingStore) Save(ctx context.Context, key string, rec *store.Record) error {
	c.saves.Add(1)
	if c.fail.Load() {
		return c.failErr
	}
	return c.Store.Save(ctx, key, rec)
}

func (c *countingStore) Delete(ctx context.Context, key string) error {
	c.deletes.Add(1)
	if c.fail.Load() {
		return c.failErr
	}
	return c.Store.Delete(ctx, key)
}

func (c *countingStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	c.touches.Add(1)
	if c.fail.Load() {
		return c.failErr
	}
	return c.Store.Touch(ctx, key, lastSeen, expires)
}

func (c *countingStore) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	return c.Store.(store.UserIndex).ListUser(ctx, userID)
}

func (c *countingStore) DeleteUser(ctx context.Context, userID string) (int, error) {
	return c.Store.(store.UserIndex).DeleteUser(ctx, userID)
}

func (c *countingStore) calls() int64 {
	return c.loads.Load() + c.saves.Load() + c.deletes.Load() + c.touches.Load()
}

func (c *countingStore) writes() int64 {
	return c.saves.Load() + c.deletes.Load() + c.touches.Load()
}

func (c *countingStore) reset() {
	c.loads.Store(0)
	c.saves.Store(0)
	c.deletes.Store(0)
	c.touches.Store(0)
}

// eventLog collects events.
type eventLog struct {
	mu     sync.Mutex
	events []event.Event
}

func (l *eventLog) add(e event.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) has(kind event.Kind, reason event.Reason) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Kind == kind && (reason == "" || e.Reason == reason) {
			return true
		}
	}
	return false
}

func (l *eventLog) count(kind event.Kind) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// fixture is a Manager over a counting store, with an event log.
type fixture struct {
	t      testing.TB
	m      *Manager
	st     *countingStore
	events *eventLog
	mux    *http.ServeMux
	h      http.Handler
}

func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	f := &fixture{t: t, st: newCountingStore(), events: &eventLog{}, mux: http.NewServeMux()}
	if cfg.Store == nil {
		cfg.Store = f.st
	}
	if cfg.Keys == nil {
		cfg.Keys = []Key{testKey(1)}
	}
	if cfg.OnEvent == nil {
		cfg.OnEvent = f.events.add
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	f.h = m.Handler(f.mux)
	f.mux.HandleFunc("/noop", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	f.mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := Get[string](FromContext(r.Context()), r.URL.Query().Get("k"))
		w.Write([]byte(v))
	})
	f.mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := FromContext(r.Context()).Put(q.Get("k"), q.Get("v")); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	f.mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.Login(r.Context(), FromContext(r.Context()), r.URL.Query().Get("u")); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	f.mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.Logout(r.Context(), FromContext(r.Context())); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	f.mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).UserID()))
	})
	return f
}

func testKey(b byte) Key {
	k := make(Key, 32)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

// client is a cookie-holding client that drives a handler in process.
type client struct {
	f      *fixture
	cookie string // current session cookie value, "" for none
}

// do serves one request and records the session cookie it sets.
func (c *client) do(method, target string) *httptest.ResponseRecorder {
	c.f.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	if c.cookie != "" {
		r.Header.Set("Cookie", c.f.m.cfg.Cookie.Name+"="+c.cookie)
	}
	w := httptest.NewRecorder()
	c.f.h.ServeHTTP(w, r)
	if sc := sessionCookie(w.Result(), c.f.m.cfg.Cookie.Name); sc != nil {
		if sc.MaxAge < 0 {
			c.cookie = ""
		} else {
			c.cookie = sc.Value
		}
	}
	return w
}

func (c *client) get(target string) string {
	c.f.t.Helper()
	return c.do("GET", target).Body.String()
}

func sessionCookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (f *fixture) client() *client { return &client{f: f} }

// storedKeys returns how many records the store holds for the key of
// cookie value v.
func (f *fixture) hashOf(v string) string {
	id, reason := f.m.ids.verify(v)
	if reason != "" {
		f.t.Fatalf("cookie %q does not decode: %s", v, reason)
	}
	return id.hash()
}

func (f *fixture) stored(v string) bool {
	_, err := f.st.Store.Load(context.Background(), f.hashOf(v))
	return err == nil
}

func (l *eventLog) countReason(kind event.Kind, reason event.Reason) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.Kind == kind && e.Reason == reason {
			n++
		}
	}
	return n
}
