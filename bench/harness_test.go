package bench

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"

	"github.com/keycard-go/keycard/bench/internal/redisctl"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/sqlite"
	"github.com/keycard-go/keycard/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testRedis.stop()
	os.Exit(code)
}

// redisEnv is the Redis the tests and benchmarks use: a private
// redis-server when the binary is on PATH (its counters then count only
// this process's commands), else the shared server at $KEYCARD_REDIS_ADDR
// or 127.0.0.1:6379, under key prefixes of this process that stop deletes.
type redisEnv struct {
	once    sync.Once
	addr    string
	private bool
	srv     *redisctl.Server
	conn    *redisctl.Conn // for cleanup
	err     error
	mu      sync.Mutex
	used    []string // key prefixes handed out
	counter atomic.Int64
}

var testRedis redisEnv

const redisServerName = "Redis (redis-server on PATH, or a server at $KEYCARD_REDIS_ADDR or 127.0.0.1:6379)"

// redisFor returns the address of the Redis the benchmarks use and a key
// prefix of the caller's own, or skips tb when there is none.
func redisFor(tb testing.TB) (addr, prefix string) {
	tb.Helper()
	r := &testRedis
	r.once.Do(func() {
		if srv, err := redisctl.Start(); err == nil {
			r.srv, r.addr, r.private = srv, srv.Addr, true
		} else {
			r.addr = os.Getenv("KEYCARD_REDIS_ADDR")
			if r.addr == "" {
				r.addr = "127.0.0.1:6379"
			}
		}
		r.conn, r.err = redisctl.Dial(r.addr)
		if r.err == nil {
			_, r.err = r.conn.Do("PING")
		}
	})
	if r.err != nil {
		storetest.Unavailable(tb, redisServerName, r.err)
	}
	prefix = "keycard-bench:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":" +
		strconv.FormatInt(r.counter.Add(1), 10) + ":"
	r.mu.Lock()
	r.used = append(r.used, prefix)
	r.mu.Unlock()
	return r.addr, prefix
}

// stop deletes this process's keys and stops the private server.
func (r *redisEnv) stop() {
	if r.conn == nil {
		return
	}
	if !r.private {
		for _, p := range r.used {
			r.conn.DeletePrefix(p)
		}
	}
	r.conn.Close()
	if r.srv != nil {
		r.srv.Stop()
	}
}

// countingStore counts the calls a Keycard Manager makes to its store.
type countingStore struct {
	store.Store
	calls, writes atomic.Int64
}

func (c *countingStore) Load(ctx context.Context, key string) (*store.Record, error) {
	c.calls.Add(1)
	return c.Store.Load(ctx, key)
}

func (c *countingStore) Save(ctx context.Context, key string, rec *store.Record) error {
	c.calls.Add(1)
	c.writes.Add(1)
	return c.Store.Save(ctx, key, rec)
}

func (c *countingStore) Delete(ctx context.Context, key string) error {
	c.calls.Add(1)
	c.writes.Add(1)
	return c.Store.Delete(ctx, key)
}

func (c *countingStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	c.calls.Add(1)
	c.writes.Add(1)
	return c.Store.Touch(ctx, key, lastSeen, expires)
}

func (c *countingStore) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	c.calls.Add(1)
	return c.Store.(store.UserIndex).ListUser(ctx, userID)
}

func (c *countingStore) DeleteUser(ctx context.Context, userID string) (int, error) {
	c.calls.Add(1)
	c.writes.Add(1)
	return c.Store.(store.UserIndex).DeleteUser(ctx, userID)
}

func (c *countingStore) counts() (int64, int64) { return c.calls.Load(), c.writes.Load() }

// countingSCS counts the calls scs makes to its store.
type countingSCS struct {
	scs.Store
	calls, writes atomic.Int64
}

func (c *countingSCS) Find(token string) ([]byte, bool, error) {
	c.calls.Add(1)
	return c.Store.Find(token)
}

func (c *countingSCS) Commit(token string, b []byte, expiry time.Time) error {
	c.calls.Add(1)
	c.writes.Add(1)
	return c.Store.Commit(token, b, expiry)
}

func (c *countingSCS) Delete(token string) error {
	c.calls.Add(1)
	c.writes.Add(1)
	return c.Store.Delete(token)
}

func (c *countingSCS) counts() (int64, int64) { return c.calls.Load(), c.writes.Load() }

// counter is a store wrapper that counts round trips and writes.
type counter interface{ counts() (calls, writes int64) }

// discardWriter is a ResponseWriter that keeps only the headers and the
// status, so the benchmarks measure the handler, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
	keep   bool   // keep the body (for tests)
	body   []byte // the body, if keep
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	if d.keep {
		d.body = append(d.body, b...)
	}
	return len(b), nil
}
func (d *discardWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

// A client sends requests to a handler in process and keeps the one
// session cookie the implementation uses, as a browser would: every
// Set-Cookie replaces it, and an expired one removes it.
type client struct {
	h      http.Handler
	w      discardWriter
	reqs   map[string]*http.Request // one template per path
	cookie []string                 // the Cookie header: nil or one "name=value"
	hdr    http.Header              // the request headers with the cookie
}

func newClient(h http.Handler) *client {
	c := &client{h: h, w: discardWriter{h: http.Header{}}, reqs: make(map[string]*http.Request)}
	for _, p := range []string{"/login", "/read", "/write", "/health"} {
		r, err := http.NewRequest("GET", "http://127.0.0.1:8080"+p, nil)
		if err != nil {
			panic(err)
		}
		r.RemoteAddr = "127.0.0.1:40000"
		r.Header.Set("User-Agent", "keycard-bench")
		c.reqs[p] = r
	}
	return c
}

// do serves one request for path, with the cookie if withCookie, and
// returns the status. The request is a fresh shallow copy of the path's
// template, as net/http makes a fresh request for each one (gorilla's
// registry, for one, is kept in the request).
func (c *client) do(path string, withCookie, keepCookies bool) int {
	t := c.reqs[path]
	r := new(http.Request)
	*r = *t
	if withCookie && c.cookie != nil {
		r.Header = c.hdr // handlers only read request headers
	}
	clear(c.w.h)
	c.w.status, c.w.body = 0, c.w.body[:0]
	c.h.ServeHTTP(&c.w, r)
	if keepCookies {
		for _, sc := range c.w.h["Set-Cookie"] {
			c.setCookie(sc)
		}
	}
	if c.w.status == 0 {
		return http.StatusOK
	}
	return c.w.status
}

// setCookie applies one Set-Cookie header to the jar.
func (c *client) setCookie(sc string) {
	pair, attrs, _ := strings.Cut(sc, ";")
	_, value, _ := strings.Cut(pair, "=")
	if value == "" || strings.Contains(attrs, "Max-Age=0") || strings.Contains(attrs, "Max-Age=-") {
		c.cookie, c.hdr = nil, nil
		return
	}
	if c.cookie != nil && c.cookie[0] == pair {
		return
	}
	c.cookie = []string{pair}
	c.hdr = http.Header{"User-Agent": {"keycard-bench"}, "Cookie": c.cookie}
}

// An implementation under benchmark and how to make it. With counted,
// make wraps a memory or SQLite store in a counter and returns it; the benchmarks
// time an unwrapped instance and count on a second, wrapped one, because
// a wrapper can change what the library does (Keycard bounds the calls to
// any store but its own memory store with StoreTimeout).
type benchImpl struct {
	backend, lib string
	make         func(tb testing.TB, counted bool) (*Impl, counter)
}

func implementations() []benchImpl {
	return []benchImpl{
		{"none", "bare", func(testing.TB, bool) (*Impl, counter) { return NewBare(), nil }},
		{"none", "bare-headers", func(testing.TB, bool) (*Impl, counter) { return NewBareHeaders("bare-headers"), nil }},
		{"memory", "keycard", func(tb testing.TB, counted bool) (*Impl, counter) {
			if !counted {
				impl, err := NewKeycard("keycard-memory", nil) // the default memory store
				if err != nil {
					tb.Fatal(err)
				}
				return impl, nil
			}
			st := &countingStore{Store: memory.New(memory.Config{})}
			impl, err := NewKeycard("keycard-memory", st)
			if err != nil {
				tb.Fatal(err)
			}
			return impl, st
		}},
		{"memory", "scs", func(_ testing.TB, counted bool) (*Impl, counter) {
			if !counted {
				return NewSCS("scs-memory", nil), nil
			}
			st := &countingSCS{Store: memstore.New()} // see NewSCS about StopCleanup
			return NewSCS("scs-memory", st), st
		}},
		{"cookie", "keycard", func(tb testing.TB, _ bool) (*Impl, counter) {
			impl, err := NewKeycardSealed("keycard-sealed")
			if err != nil {
				tb.Fatal(err)
			}
			return impl, nil
		}},
		{"cookie", "gorilla", func(testing.TB, bool) (*Impl, counter) { return NewGorillaCookie("gorilla-cookie"), nil }},
		{"sqlite", "keycard", func(tb testing.TB, counted bool) (*Impl, counter) {
			path := filepath.Join(tb.TempDir(), "keycard.db")
			if !counted {
				impl, err := NewKeycardSQLite("keycard-sqlite", path)
				if err != nil {
					tb.Fatal(err)
				}
				return impl, nil
			}
			sst, err := sqlite.Open(path, sqlite.Config{})
			if err != nil {
				tb.Fatal(err)
			}
			st := &countingStore{Store: sst}
			impl, err := NewKeycard("keycard-sqlite", st)
			if err != nil {
				sst.Close()
				tb.Fatal(err)
			}
			impl.closers = append(impl.closers, func() { sst.Close() })
			return impl, st
		}},
		{"sqlite", "scs", func(tb testing.TB, counted bool) (*Impl, counter) {
			path := filepath.Join(tb.TempDir(), "scs.db")
			if !counted {
				impl, err := NewSCSSQLite("scs-sqlite", path)
				if err != nil {
					tb.Fatal(err)
				}
				return impl, nil
			}
			sst, closeStore, err := SCSSQLiteStore(path)
			if err != nil {
				tb.Fatal(err)
			}
			st := &countingSCS{Store: sst}
			impl := NewSCS("scs-sqlite", st)
			impl.closers = append(impl.closers, closeStore)
			return impl, st
		}},
		{"redis", "bare+get", func(tb testing.TB, _ bool) (*Impl, counter) {
			addr, prefix := redisFor(tb)
			impl, err := NewBareRedisGet("bare-redisget", addr, prefix)
			if err != nil {
				tb.Fatal(err)
			}
			return impl, nil
		}},
		{"redis", "keycard", func(tb testing.TB, _ bool) (*Impl, counter) {
			addr, prefix := redisFor(tb)
			impl, err := NewKeycardRedis("keycard-redis", addr, prefix)
			if err != nil {
				tb.Fatal(err)
			}
			return impl, nil
		}},
		{"redis", "scs", func(tb testing.TB, _ bool) (*Impl, counter) {
			addr, prefix := redisFor(tb)
			return NewSCSRedis("scs-redis", addr, prefix), nil
		}},
		{"redis", "gorilla", func(tb testing.TB, _ bool) (*Impl, counter) {
			addr, prefix := redisFor(tb)
			impl, err := NewGorillaRedis("gorilla-redis", addr, prefix)
			if err != nil {
				tb.Fatal(err)
			}
			return impl, nil
		}},
	}
}
