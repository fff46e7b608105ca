package reliability_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store"
)

// cookieName is the Manager's default cookie name, which every app uses.
const cookieName = keycard.DefaultCookieName

// app is one application instance: a Manager over a store, its Handler
// around a small mux, and the error logs it wrote.
type app struct {
	m    *keycard.Manager
	h    http.Handler
	logs *logCounter
}

// newApp returns an instance over st signed with key. edit, if not nil,
// changes the Config before New. Events go nowhere unless edit sets
// OnEvent (the logger only takes errors); errors are logged to the instance's logCounter through the
// Manager's default error handler.
func newApp(tb testing.TB, st store.Store, key keycard.Key, edit func(*keycard.Config)) *app {
	tb.Helper()
	logs := &logCounter{}
	cfg := keycard.Config{
		Store:  st,
		Keys:   []keycard.Key{key},
		Logger: slog.New(logs),
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := keycard.New(cfg)
	if err != nil {
		tb.Fatalf("keycard.New: %v", err)
	}
	return &app{m: m, h: m.Handler(routes(m)), logs: logs}
}

// dump is what /dump answers: the session as a handler sees it.
type dump struct {
	New     bool              `json:"new"`
	User    string            `json:"user"`
	Counter int               `json:"counter"`
	Vals    map[string]string `json:"vals"`
}

// routes is the application: every endpoint uses the session the way a
// typical handler does, and answers 503 itself when a keycard call reports
// a store failure (Update, Renew, Login, Logout).
func routes(m *keycard.Manager) http.Handler {
	mux := http.NewServeMux()
	fail := func(w http.ResponseWriter, what string, err error) bool {
		if err == nil {
			return false
		}
		code := http.StatusServiceUnavailable
		if errors.Is(err, keycard.ErrTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		http.Error(w, what+": "+err.Error(), code)
		return true
	}
	sess := func(r *http.Request) *keycard.Session { return keycard.FromContext(r.Context()) }
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		fail(w, "put", sess(r).Put(r.FormValue("k"), r.FormValue("v")))
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := keycard.Get[string](sess(r), r.FormValue("k"))
		io.WriteString(w, v)
	})
	mux.HandleFunc("/dump", func(w http.ResponseWriter, r *http.Request) {
		s := sess(r)
		d := dump{New: s.IsNew(), User: s.UserID(), Vals: map[string]string{}}
		d.Counter, _ = keycard.Get[int](s, "counter")
		for _, k := range s.Keys() {
			if k != "counter" {
				d.Vals[k], _ = keycard.Get[string](s, k)
			}
		}
		if err := s.Err(); err != nil {
			return // the middleware answers with the error handler
		}
		json.NewEncoder(w).Encode(d)
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		n, err := keycard.Update(r.Context(), sess(r), "counter", func(n int) int { return n + 1 })
		if !fail(w, "update", err) {
			io.WriteString(w, strconv.Itoa(n))
		}
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := sess(r)
		if fail(w, "login", m.Login(r.Context(), s, r.FormValue("u"))) {
			return
		}
		if o := r.FormValue("owner"); o != "" {
			fail(w, "put", s.Put("owner", o))
		}
	})
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
		fail(w, "renew", m.Renew(r.Context(), sess(r)))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		fail(w, "logout", m.Logout(r.Context(), sess(r)))
	})
	mux.HandleFunc("/hash", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, sess(r).Info().Hash)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.FormValue("n"))
		fail(w, "put", sess(r).Put(r.FormValue("k"), strings.Repeat("x", n)))
	})
	return mux
}

// result is one served request.
type result struct {
	code    int
	body    string
	cookie  string // the session cookie value the response set, or ""
	expired bool   // the response expired the session cookie
	start   time.Time
	dur     time.Duration
	panic   any // what the handler panicked with, if it did
}

func (r result) String() string {
	return fmt.Sprintf("status %d in %v: %q", r.code, r.dur.Round(time.Microsecond), strings.TrimSpace(r.body))
}

// serve runs one GET of target through h, in process, presenting cookie
// (if not "") as the session cookie, under ctx.
func serve(ctx context.Context, h http.Handler, cookie, target string) (res result) {
	req := httptest.NewRequestWithContext(ctx, "GET", target, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookieName+"="+cookie)
	}
	w := httptest.NewRecorder()
	res.start = time.Now()
	defer func() {
		res.dur = time.Since(res.start)
		if p := recover(); p != nil {
			res.code, res.panic = -1, p
		}
	}()
	h.ServeHTTP(w, req)
	res.code, res.body = w.Code, w.Body.String()
	for _, line := range w.Result().Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Name != cookieName {
			continue
		}
		if c.MaxAge < 0 || c.Value == "" {
			res.expired = true
		} else {
			res.cookie = c.Value
		}
	}
	return res
}

// mustServe serves a request that must succeed and returns its result.
func mustServe(tb testing.TB, h http.Handler, cookie, target string) result {
	tb.Helper()
	res := serve(context.Background(), h, cookie, target)
	if res.code != http.StatusOK {
		tb.Fatalf("%s: %v", target, res)
	}
	return res
}

// readDump reads the session that cookie names through h.
func readDump(ctx context.Context, h http.Handler, cookie string) (dump, result, error) {
	res := serve(ctx, h, cookie, "/dump")
	var d dump
	if res.code != http.StatusOK {
		return d, res, fmt.Errorf("/dump: %v", res)
	}
	if err := json.Unmarshal([]byte(res.body), &d); err != nil {
		return d, res, fmt.Errorf("/dump: %v: %w", res, err)
	}
	return d, res, nil
}

// logCounter is a slog.Handler that counts the error records the Manager's
// default error handler writes ("keycard: session unavailable").
type logCounter struct {
	unavailable atomic.Int64
	errors      atomic.Int64
	mu          sync.Mutex
	last        string
}

func (l *logCounter) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelError
}

func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.errors.Add(1)
	if r.Message == "keycard: session unavailable" {
		l.unavailable.Add(1)
	}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.last = b.String()
	l.mu.Unlock()
	return nil
}

func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }

func (l *logCounter) lastRecord() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}
