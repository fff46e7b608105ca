package keycardprom_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// browser is a client with a cookie jar; it returns the trimmed body.
func browser(t testing.TB, ts *httptest.Server) func(method, path string) string {
	jar, _ := cookiejar.New(nil)
	c := *ts.Client() // a copy: each browser has its own jar
	c.Jar = jar
	return func(method, path string) string {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return strings.TrimSpace(string(b))
	}
}

// counter returns the value of keycard_events_total{kind, reason}.
func counter(t testing.TB, reg *prometheus.Registry, kind, reason string) float64 {
	t.Helper()
	v, _ := sample(t, reg, "keycard_events_total", map[string]string{"kind": kind, "reason": reason})
	return v
}

// calls returns how many store calls keycard_store_duration_seconds
// recorded for op and result.
func calls(t testing.TB, reg *prometheus.Registry, op, result string) float64 {
	t.Helper()
	v, _ := sample(t, reg, "keycard_store_duration_seconds", map[string]string{"op": op, "result": result})
	return v
}

// sample returns a counter's value or a histogram's count for the series
// of name with exactly labels, and whether that series exists.
func sample(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount()), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// seriesCount returns how many series name has.
func seriesCount(t testing.TB, reg *prometheus.Registry, name string) int {
	t.Helper()
	n, err := testutil.GatherAndCount(reg, name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// racingStore simulates a concurrent writer: when armed, the next save of
// an existing record is preceded by another save of it, so it conflicts.
type racingStore struct {
	store.Store
	armed atomic.Bool
}

func (r *racingStore) Save(ctx context.Context, key string, rec *store.Record) error {
	if rec.Version > 0 && r.armed.CompareAndSwap(true, false) {
		if other, err := r.Store.Load(ctx, key); err == nil {
			r.Store.Save(ctx, key, other)
		}
	}
	return r.Store.Save(ctx, key, rec)
}

// downStore fails every call, as a store whose server is unreachable.
type downStore struct{}

var errDown = io.ErrUnexpectedEOF

func (downStore) Load(context.Context, string) (*store.Record, error)       { return nil, errDown }
func (downStore) Save(context.Context, string, *store.Record) error         { return errDown }
func (downStore) Delete(context.Context, string) error                      { return errDown }
func (downStore) Touch(context.Context, string, time.Time, time.Time) error { return errDown }
