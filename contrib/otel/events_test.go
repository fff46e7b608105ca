package keycardotel_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	keycardotel "github.com/keycard-go/keycard/contrib/otel"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/guard"
	"github.com/keycard-go/keycard/store/memory"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestSpanEventAttributes checks what an event becomes on its request's
// span: its kind in the name, its reason, its session's hash prefix at
// most, its companion attributes; no user ID and no error message.
func TestSpanEventAttributes(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.traced("request", func(ctx context.Context) {
		r := httptest.NewRequest("POST", "/refresh", nil).WithContext(ctx)
		s.tel.OnEvent(event.Event{
			Kind: "refresh-reuse", Reason: "stale", Time: at, Request: r,
			Session: strings.Repeat("0123456789abcdef", 4), // longer than Emit leaves it
			UserID:  "alice@example.com",
			Err:     errors.New("token: reuse of 6b657963617264"),
			Attrs: []slog.Attr{slog.String("family", "00112233"), slog.Int("failures", 5),
				slog.Uint64("count", 7), slog.Bool("remembered", true), slog.Duration("age", time.Second)},
		})
	})
	sp := s.request(t, "request")
	if len(sp.Events()) != 1 {
		t.Fatalf("span events: got %d, want 1", len(sp.Events()))
	}
	e := sp.Events()[0]
	if e.Name != "keycard.refresh-reuse" || !e.Time.Equal(at) {
		t.Errorf("event: got %s at %v, want keycard.refresh-reuse at %v", e.Name, e.Time, at)
	}
	want := []attribute.KeyValue{
		keycardotel.AttrReason.String("stale"),
		keycardotel.AttrSession.String("0123456789abcdef"),
		attribute.String("keycard.family", "00112233"),
		attribute.Int64("keycard.failures", 5),
		attribute.Int64("keycard.count", 7),
		attribute.Bool("keycard.remembered", true),
		attribute.String("keycard.age", "1s"),
	}
	if !slices.Equal(e.Attributes, want) {
		t.Errorf("event attributes:\ngot  %v\nwant %v", e.Attributes, want)
	}
}

// TestEventsWithoutASpanAreOnlyCounted: an admin call's event (no
// request) and a request that is not traced add no span event; both are
// counted.
func TestEventsWithoutASpanAreOnlyCounted(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	s.tel.OnEvent(event.Event{Kind: event.Destroyed, Reason: event.ReasonRevoke, Session: "0123456789abcdef"})
	s.tel.OnEvent(event.Event{Kind: event.Destroyed, Reason: event.ReasonRevoke,
		Request: httptest.NewRequest("POST", "/admin", nil)})
	if spans := s.ended(); len(spans) != 0 {
		t.Errorf("spans: got %s, want none", names(spans))
	}
	if got, _ := s.counter(t, "destroyed", "revoke"); got != 2 {
		t.Errorf("destroyed/revoke: got %d, want 2", got)
	}
}

// TestRevocationOutsideARequest runs the Manager's own admin calls: their
// events reach the counter, and their store calls the histogram.
func TestRevocationOutsideARequest(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	m, err := keycard.New(keycard.Config{Store: s.tel.Store(memory.New(memory.Config{})), OnEvent: s.tel.OnEvent,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.RevokeUser(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.counter(t, "destroyed", "revoke"); got != 1 {
		t.Errorf("destroyed/revoke: got %d, want 1", got)
	}
	if got := s.calls(t, "delete_user", "ok"); got != 1 {
		t.Errorf("delete_user calls: got %d, want 1", got)
	}
}

func TestLabelsAreBounded(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	series := func() int {
		n := 0
		for _, sm := range s.collect(t).ScopeMetrics {
			for _, m := range sm.Metrics {
				if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "keycard.events" {
					n += len(sum.DataPoints)
				}
			}
		}
		return n
	}
	initial := series()
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
		before, _ := s.counter(t, c.kind, c.reason)
		s.tel.OnEvent(c.ev)
		if after, _ := s.counter(t, c.kind, c.reason); after-before != 1 {
			t.Errorf("%s: {kind=%q,reason=%q} grew by %d, want 1", c.name, c.kind, c.reason, after-before)
		}
	}
	// Session hashes and user IDs never become attribute values.
	for i := range 100 {
		s.tel.OnEvent(event.Event{Kind: event.Renewed, Reason: event.ReasonLogin,
			Session: strings.Repeat("ab", 8), UserID: "user" + strings.Repeat("x", i)})
	}
	if got, want := series(), initial+2; got != want {
		t.Errorf("series after 106 events: got %d, want %d (only other/login and rejected/other are new)", got, want)
	}
}

// TestEmittedSeriesStartAtZero: the pairs Keycard emits are exported at
// zero before any event, as keycardprom's are.
func TestEmittedSeriesStartAtZero(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	for _, c := range [][2]string{
		{"created", "none"}, {"renewed", "rotate"}, {"destroyed", "session-limit"},
		{"expired", "absolute-timeout"}, {"expired", "refresh-token"}, {"rejected", "bad-mac"},
		{"rejected", "undecodable"}, {"conflict-retried", "none"}, {"csrf-rejected", "cross-origin"},
		{"binding-mismatch", "user-agent"}, {"login-failures", "limit-reached"}, {"rejected", "rate-limited"},
		{"refresh-reuse", "stale"}, {"refresh-reuse", "after-grace"},
	} {
		if v, ok := s.counter(t, c[0], c[1]); !ok || v != 0 {
			t.Errorf("{kind=%q,reason=%q} before any event: got %d (exported %v), want 0 (exported)", c[0], c[1], v, ok)
		}
	}
}

func TestBuckets(t *testing.T) {
	t.Parallel()
	if _, err := keycardotel.New(keycardotel.Config{Buckets: []float64{1, 0.5}}); err == nil {
		t.Error("decreasing Buckets: got no error")
	}
	for _, c := range []struct {
		name    string
		buckets []float64
		want    []float64
	}{
		{"the default", nil, keycardotel.DefaultBuckets},
		{"custom", []float64{0.001, 1}, []float64{0.001, 1}},
	} {
		reader := sdkmetric.NewManualReader()
		tel, err := keycardotel.New(keycardotel.Config{Buckets: c.buckets,
			MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
		if err != nil {
			t.Fatal(err)
		}
		tel.Store(memory.New(memory.Config{})).Load(context.Background(), strings.Repeat("0", 64))
		var rm metricdata.ResourceMetrics
		reader.Collect(context.Background(), &rm)
		var got []float64
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "keycard.store.duration" {
					if m.Unit != "s" {
						t.Errorf("unit: got %q, want s", m.Unit)
					}
					got = h.DataPoints[0].Bounds
				}
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: bounds: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestGlobalProviders: the zero Config uses the global providers, which
// do nothing until the application installs its own.
func TestGlobalProviders(t *testing.T) {
	t.Parallel()
	tel, err := keycardotel.New(keycardotel.Config{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := keycard.New(keycard.Config{Store: tel.Store(memory.New(memory.Config{})), OnEvent: tel.OnEvent,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.RevokeUser(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
}
