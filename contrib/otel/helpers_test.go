package keycardotel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	keycardotel "github.com/keycard-go/keycard/contrib/otel"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/guard"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// sdk is an OpenTelemetry SDK whose spans and metrics stay in memory.
type sdk struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	tel    *keycardotel.Telemetry
}

func newSDK(t testing.TB) *sdk {
	t.Helper()
	s := &sdk{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	s.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(s.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	tel, err := keycardotel.New(keycardotel.Config{TracerProvider: s.tp, MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	s.tel = tel
	return s
}

// traced runs fn under a span of its own, as a request's tracing
// middleware would, and returns that span's context.
func (s *sdk) traced(name string, fn func(ctx context.Context)) trace.SpanContext {
	ctx, span := s.tp.Tracer("test").Start(context.Background(), name)
	fn(ctx)
	span.End()
	return span.SpanContext()
}

// middleware starts a span named after each request around next, as
// otelhttp.NewHandler does.
func (s *sdk) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := s.tp.Tracer("test").Start(r.Context(), r.Method+" "+r.URL.Path,
			trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ended returns the spans ended so far.
func (s *sdk) ended() []sdktrace.ReadOnlySpan { return s.spans.Ended() }

// request returns the last ended span named name: a request's span.
func (s *sdk) request(t testing.TB, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := s.ended()
	for i := len(spans) - 1; i >= 0; i-- {
		if spans[i].Name() == name {
			return spans[i]
		}
	}
	t.Fatalf("no span named %q among %s", name, names(spans))
	return nil
}

// children returns the names of the spans whose parent is parent, in the
// order they started, each with its keycard.store.result.
func (s *sdk) children(parent sdktrace.ReadOnlySpan) []string {
	var out []string
	spans := s.ended()
	// Ended is in end order; store calls do not overlap within a
	// request, so their end order is their start order.
	for _, sp := range spans {
		if sp.Parent().SpanID() == parent.SpanContext().SpanID() {
			out = append(out, sp.Name()+"="+value(sp.Attributes(), keycardotel.AttrStoreResult))
		}
	}
	return out
}

// events returns the names of sp's events, each with its keycard.reason
// if it has one.
func events(sp sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, e := range sp.Events() {
		name := e.Name
		if r := value(e.Attributes, keycardotel.AttrReason); r != "" {
			name += "/" + r
		}
		out = append(out, name)
	}
	return out
}

func names(spans []sdktrace.ReadOnlySpan) string {
	var out []string
	for _, sp := range spans {
		out = append(out, sp.Name())
	}
	return strings.Join(out, ", ")
}

// value returns the value of key among attrs as a string, or "".
func value(attrs []attribute.KeyValue, key attribute.Key) string {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}

// collect returns the metrics recorded so far.
func (s *sdk) collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// counter returns keycard.events{kind, reason} and whether that series
// exists.
func (s *sdk) counter(t testing.TB, kind, reason string) (int64, bool) {
	t.Helper()
	for _, sm := range s.collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if m.Name != "keycard.events" || !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				k, _ := dp.Attributes.Value("kind")
				r, _ := dp.Attributes.Value("reason")
				if k.AsString() == kind && r.AsString() == reason {
					return dp.Value, true
				}
			}
		}
	}
	return 0, false
}

// calls returns how many store calls keycard.store.duration recorded for
// op and result.
func (s *sdk) calls(t testing.TB, op, result string) uint64 {
	t.Helper()
	for _, sm := range s.collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			h, ok := m.Data.(metricdata.Histogram[float64])
			if m.Name != "keycard.store.duration" || !ok {
				continue
			}
			for _, dp := range h.DataPoints {
				o, _ := dp.Attributes.Value("op")
				r, _ := dp.Attributes.Value("result")
				if o.AsString() == op && r.AsString() == result {
					return dp.Count
				}
			}
		}
	}
	return 0
}

// app is a Manager instrumented with Telemetry over an in-memory SDK,
// behind a tracing middleware, served over TLS with login, read, write
// and logout routes, a failed login counted by a guard.Limiter whose
// Limit is 1 (POST /fail) and a form behind csrf (POST /transfer).
type app struct {
	*sdk
	m     *keycard.Manager
	ts    *httptest.Server
	store *racingStore
	keys  []keycard.Key
}

func newApp(t *testing.T) *app {
	t.Helper()
	a := &app{sdk: newSDK(t), keys: []keycard.Key{keycard.NewKey(), keycard.NewKey()}}
	a.store = &racingStore{Store: memory.New(memory.Config{})}
	m, err := keycard.New(keycard.Config{Store: a.tel.Store(a.store), OnEvent: a.tel.OnEvent, Keys: a.keys,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	a.m = m
	limiter := guard.New(guard.Config{Manager: m, Limit: 1})
	protect, err := csrf.New(m, csrf.Config{})
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
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		// A wrong password for alice: the first failure reaches Limit.
		limiter.Fail(r.Context(), "alice", r)
	})
	mux.Handle("POST /transfer", protect.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("done"))
	})))
	a.ts = httptest.NewTLSServer(a.middleware(m.Handler(mux)))
	t.Cleanup(a.ts.Close)
	return a
}

// browser is a client with a cookie jar of its own.
type browser struct {
	t   testing.TB
	ts  *httptest.Server
	c   http.Client
	jar http.CookieJar
	// set are the values of every session cookie the server set.
	set []string
}

func newBrowser(t testing.TB, ts *httptest.Server) *browser {
	jar, _ := cookiejar.New(nil)
	c := *ts.Client()
	c.Jar = jar
	return &browser{t: t, ts: ts, c: c, jar: jar}
}

// do sends a request and returns the trimmed body.
func (b *browser) do(method, path string, cookies ...*http.Cookie) string {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.ts.URL+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == keycard.DefaultCookieName && c.Value != "" {
			b.set = append(b.set, c.Value)
		}
	}
	body, _ := io.ReadAll(res.Body)
	return strings.TrimSpace(string(body))
}

// cookie returns the session cookie in b's jar.
func (b *browser) cookie() *http.Cookie {
	b.t.Helper()
	u, _ := url.Parse(b.ts.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == keycard.DefaultCookieName {
			return c
		}
	}
	b.t.Fatal("no session cookie in the jar")
	return nil
}

// racingStore simulates another instance writing: when armed, the next
// save of an existing record is preceded by another save of it, so it
// conflicts. It remembers every key it is asked for.
type racingStore struct {
	store.Store
	armed atomic.Bool
	mu    sync.Mutex
	keys  map[string]bool
}

func (r *racingStore) saw(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = map[string]bool{}
	}
	r.keys[key] = true
}

func (r *racingStore) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k := range r.keys {
		out = append(out, k)
	}
	return out
}

// Unwrap returns the store that r races on: Telemetry.Store names the
// store after it.
func (r *racingStore) Unwrap() store.Store { return r.Store }

func (r *racingStore) Load(ctx context.Context, key string) (*store.Record, error) {
	r.saw(key)
	return r.Store.Load(ctx, key)
}

func (r *racingStore) Save(ctx context.Context, key string, rec *store.Record) error {
	r.saw(key)
	if rec.Version > 0 && r.armed.CompareAndSwap(true, false) {
		if other, err := r.Store.Load(ctx, key); err == nil {
			r.Store.Save(ctx, key, other)
		}
	}
	return r.Store.Save(ctx, key, rec)
}

func (r *racingStore) Delete(ctx context.Context, key string) error {
	r.saw(key)
	return r.Store.Delete(ctx, key)
}

func (r *racingStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	r.saw(key)
	return r.Store.Touch(ctx, key, lastSeen, expires)
}

// failingStore fails every call with an error whose message holds what a
// driver's might: an address and a password.
type failingStore struct{}

// errDown is the error of every failingStore call.
var errDown = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect to 127.0.0.1:6379 as user=admin password=hunter2: refused")}

func (failingStore) Load(context.Context, string) (*store.Record, error) {
	return nil, fmt.Errorf("redis store: load: %w", errDown)
}
func (failingStore) Save(context.Context, string, *store.Record) error {
	return fmt.Errorf("redis store: save: %w", errDown)
}
func (failingStore) Delete(context.Context, string) error {
	return fmt.Errorf("redis store: delete: %w", errDown)
}
func (failingStore) Touch(context.Context, string, time.Time, time.Time) error {
	return fmt.Errorf("redis store: touch: %w", errDown)
}

// withSpan returns ctx carrying the span of from.
func withSpan(ctx, from context.Context) context.Context {
	return trace.ContextWithSpan(ctx, trace.SpanFromContext(from))
}
