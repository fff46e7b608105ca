package keycardprom_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keycard-go/keycard"
	keycardprom "github.com/keycard-go/keycard/contrib/prometheus"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/guard"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/prometheus/client_golang/prometheus"
)

// app is a Manager instrumented with Metrics over a real registry, served
// by an httptest server with login, read, write and logout routes.
type app struct {
	reg   *prometheus.Registry
	m     *keycard.Manager
	ts    *httptest.Server
	store *racingStore
}

func newApp(t *testing.T, cfg keycardprom.Config) *app {
	t.Helper()
	reg := prometheus.NewRegistry()
	metrics, err := keycardprom.New(reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := &racingStore{Store: memory.New(memory.Config{})}
	m, err := keycard.New(keycard.Config{Store: metrics.Store(st), OnEvent: metrics.OnEvent})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), "alice"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(keycard.FromContext(r.Context()).UserID()))
	})
	mux.HandleFunc("POST /visit", func(w http.ResponseWriter, r *http.Request) {
		if _, err := keycard.Update(r.Context(), keycard.FromContext(r.Context()), "visits",
			func(n int) int { return n + 1 }); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		m.Logout(r.Context(), keycard.FromContext(r.Context()))
	})
	ts := httptest.NewTLSServer(m.Handler(mux))
	t.Cleanup(ts.Close)
	return &app{reg: reg, m: m, ts: ts, store: st}
}

func TestEventsThroughAManager(t *testing.T) {
	t.Parallel()
	a := newApp(t, keycardprom.Config{})
	do := browser(t, a.ts)

	do("POST", "/login")
	if got := do("GET", "/me"); got != "alice" {
		t.Fatalf("GET /me after login: got %q, want alice", got)
	}
	do("POST", "/visit")
	a.store.armed.Store(true) // the next save meets a concurrent writer
	do("POST", "/visit")
	do("POST", "/logout")

	// A cookie signed with another key is refused before any store call.
	req, _ := http.NewRequest("GET", a.ts.URL+"/me", nil)
	req.AddCookie(foreignCookie(t))
	res, err := a.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	for _, c := range []struct {
		kind, reason string
		want         float64
	}{
		{"created", "none", 1},
		{"renewed", "login", 1},
		{"conflict-retried", "none", 1},
		{"destroyed", "logout", 1},
		{"rejected", "bad-mac", 1},
		{"rejected", "unknown-id", 0},
		{"expired", "idle-timeout", 0},
	} {
		if got := counter(t, a.reg, c.kind, c.reason); got != c.want {
			t.Errorf("keycard_events_total{kind=%q,reason=%q}: got %v, want %v", c.kind, c.reason, got, c.want)
		}
	}
	for _, c := range []struct {
		op, result string
		atLeast    float64
	}{
		{"load", "ok", 3},
		{"save", "ok", 3},
		{"save", "conflict", 1},
		{"delete", "ok", 1},
	} {
		if got := calls(t, a.reg, c.op, c.result); got < c.atLeast {
			t.Errorf("keycard_store_duration_seconds_count{op=%q,result=%q}: got %v, want at least %v", c.op, c.result, got, c.atLeast)
		}
	}
	if got := calls(t, a.reg, "load", "error"); got != 0 {
		t.Errorf("load errors: got %v, want 0", got)
	}
}

// foreignCookie returns a session cookie signed by another Manager's key.
func foreignCookie(t *testing.T) *http.Cookie {
	t.Helper()
	other, _ := keycard.New(keycard.Config{})
	w := httptest.NewRecorder()
	other.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("k", 1)
	})).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	return w.Result().Cookies()[0]
}

func TestLabelsAreBounded(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics, err := keycardprom.New(reg, keycardprom.Config{})
	if err != nil {
		t.Fatal(err)
	}
	initial := seriesCount(t, reg, "keycard_events_total")
	for _, c := range []struct {
		name         string
		ev           event.Event
		kind, reason string
	}{
		{"a known kind without a reason counts as none",
			event.Event{Kind: event.Created}, "created", "none"},
		{"a csrf reason keeps its name",
			event.Event{Kind: csrf.EventRejected, Reason: csrf.ReasonBadToken}, "csrf-rejected", "bad-token"},
		{"refresh-token reuse keeps its name",
			event.Event{Kind: "refresh-reuse", Reason: "stale"}, "refresh-reuse", "stale"},
		{"guard's limit keeps its name",
			event.Event{Kind: guard.EventLimit, Reason: guard.ReasonLimit}, "login-failures", "limit-reached"},
		{"an unknown kind becomes other",
			event.Event{Kind: "user-42-did-something", Reason: event.ReasonLogin}, "other", "login"},
		{"an unknown reason becomes other",
			event.Event{Kind: event.Rejected, Reason: "session 0123456789abcdef"}, "rejected", "other"},
	} {
		before := counter(t, reg, c.kind, c.reason)
		metrics.OnEvent(c.ev)
		if got := counter(t, reg, c.kind, c.reason) - before; got != 1 {
			t.Errorf("%s: {kind=%q,reason=%q} grew by %v, want 1", c.name, c.kind, c.reason, got)
		}
	}
	// Session hashes and user IDs never become label values.
	for i := range 100 {
		metrics.OnEvent(event.Event{Kind: event.Renewed, Reason: event.ReasonLogin,
			Session: strings.Repeat("ab", 8), UserID: "user" + strings.Repeat("x", i)})
	}
	if got, want := seriesCount(t, reg, "keycard_events_total"), initial+2; got != want {
		t.Errorf("series after 106 events: got %d, want %d (only other/login and rejected/other are new)", got, want)
	}
	if got := counter(t, reg, "renewed", "login"); got != 100 {
		t.Errorf("renewed/login: got %v, want 100", got)
	}
}

func TestEmittedSeriesStartAtZero(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	if _, err := keycardprom.New(reg, keycardprom.Config{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{
		{"created", "none"}, {"renewed", "rotate"}, {"destroyed", "session-limit"},
		{"expired", "absolute-timeout"}, {"expired", "refresh-token"}, {"rejected", "bad-mac"},
		{"rejected", "undecodable"}, {"conflict-retried", "none"}, {"csrf-rejected", "cross-origin"},
		{"binding-mismatch", "user-agent"}, {"login-failures", "limit-reached"}, {"rejected", "rate-limited"},
		{"refresh-reuse", "stale"}, {"refresh-reuse", "after-grace"},
	} {
		v, ok := sample(t, reg, "keycard_events_total", map[string]string{"kind": c[0], "reason": c[1]})
		if !ok || v != 0 {
			t.Errorf("{kind=%q,reason=%q} before any event: got %v (exported %v), want 0 (exported)", c[0], c[1], v, ok)
		}
	}
}

func TestStoreErrorsAreCounted(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics, _ := keycardprom.New(reg, keycardprom.Config{})
	m, err := keycard.New(keycard.Config{Store: metrics.Store(downStore{}), OnEvent: metrics.OnEvent,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(503) }})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Login(r.Context(), keycard.FromContext(r.Context()), "alice")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	if w.Code != 503 {
		t.Fatalf("status: got %d, want 503", w.Code)
	}
	// Login's save fails, and so does the commit's retry at the end.
	if got := calls(t, reg, "save", "error"); got < 1 {
		t.Errorf("save errors: got %v, want at least 1", got)
	}
	if got := calls(t, reg, "save", "ok"); got != 0 {
		t.Errorf("successful saves: got %v, want 0", got)
	}
}

// TestManagerStillLogsEvents checks that counting events costs no log
// line: with metrics.OnEvent installed, the Manager logs a forged cookie
// at Warn and a login at Debug, and the counter counts both.
func TestManagerStillLogsEvents(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer // written by the handler's goroutine only, read after
	reg := prometheus.NewRegistry()
	metrics, _ := keycardprom.New(reg, keycardprom.Config{})
	m, err := keycard.New(keycard.Config{
		OnEvent: metrics.OnEvent,
		Logger:  slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		if r.URL.Path == "/login" {
			m.Login(r.Context(), s, "alice")
		}
		s.Keys() // loads the session
	}))
	forged := httptest.NewRequest("GET", "https://example.test/", nil)
	forged.Header.Set("Cookie", keycard.DefaultCookieName+"="+strings.Repeat("A", 92))
	h.ServeHTTP(httptest.NewRecorder(), forged)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "https://example.test/login", nil))
	out := buf.String()
	for _, want := range []string{"level=WARN msg=\"keycard: session rejected\" event=rejected reason=malformed",
		"level=DEBUG msg=\"keycard: session renewed\" event=renewed reason=login"} {
		if !strings.Contains(out, want) {
			t.Errorf("the Manager's log lacks %q:\n%s", want, out)
		}
	}
	for _, c := range []struct{ kind, reason string }{{"rejected", "malformed"}, {"renewed", "login"}} {
		if got := counter(t, reg, c.kind, c.reason); got != 1 {
			t.Errorf("keycard_events_total{%s,%s} = %v, want 1", c.kind, c.reason, got)
		}
	}
}

func TestNoLoggerLogsNothing(t *testing.T) {
	// Not parallel: it swaps the default logger.
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)
	metrics, _ := keycardprom.New(prometheus.NewRegistry(), keycardprom.Config{})
	metrics.OnEvent(event.Event{Kind: event.Rejected, Reason: event.ReasonBadMAC})
	if buf.Len() != 0 {
		t.Errorf("OnEvent logged %q; logging is the Manager's", buf.String())
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := keycardprom.New(nil, keycardprom.Config{}); err == nil {
		t.Error("nil Registerer: got no error")
	}
	if _, err := keycardprom.New(prometheus.NewRegistry(), keycardprom.Config{Buckets: []float64{1, 0.5}}); err == nil {
		t.Error("decreasing Buckets: got no error")
	}
	reg := prometheus.NewRegistry()
	if _, err := keycardprom.New(reg, keycardprom.Config{}); err != nil {
		t.Fatal(err)
	}
	_, err := keycardprom.New(reg, keycardprom.Config{})
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Errorf("second New on one registry: got %v, want an AlreadyRegisteredError", err)
	}
}

func TestTwoManagersOnOneRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	for _, name := range []string{"web", "admin"} {
		wrapped := prometheus.WrapRegistererWith(prometheus.Labels{"manager": name}, reg)
		metrics, err := keycardprom.New(wrapped, keycardprom.Config{})
		if err != nil {
			t.Fatalf("New for %s: %v", name, err)
		}
		metrics.OnEvent(event.Event{Kind: event.Created})
	}
	for _, name := range []string{"web", "admin"} {
		v, _ := sample(t, reg, "keycard_events_total", map[string]string{"manager": name, "kind": "created", "reason": "none"})
		if v != 1 {
			t.Errorf("%s: created: got %v, want 1", name, v)
		}
	}
}

func TestCustomBuckets(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics, _ := keycardprom.New(reg, keycardprom.Config{Buckets: []float64{0.001, 1}})
	st := metrics.Store(memory.New(memory.Config{}))
	st.Load(context.Background(), strings.Repeat("0", 64))
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() == "keycard_store_duration_seconds" {
			if got := len(f.GetMetric()[0].GetHistogram().GetBucket()); got != 2 {
				t.Errorf("buckets: got %d, want 2", got)
			}
			return
		}
	}
	t.Error("no store histogram")
}
