package keycard

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The request paths' allocation budgets: what the benchmarks in
// bench_test.go report, held here so that a change that adds an
// allocation to a read or a write fails a test, not just a benchmark
// nobody reran. Counts, not times: they do not depend on the machine.
func TestRequestPathAllocations(t *testing.T) {
	m, cookie := benchSession(t)
	write := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		n, _ := Get[int](s, "counter")
		s.Put("counter", n+1)
	})
	update := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Update(r.Context(), FromContext(r.Context()), "counter", func(n int) int { return n + 1 })
	})
	for _, c := range []struct {
		name   string
		h      http.Handler
		cookie string
		budget float64 // the handler's own write([]byte) makes one of them
	}{
		{"untouched", m.Handler(benchHandler(false)), cookie, 3},
		{"read", m.Handler(benchHandler(true)), cookie, 5},
		{"forged cookie", m.Handler(benchHandler(true)), cookie[:50] + "AAAA" + cookie[54:], 6},
		{"write", m.Handler(write), cookie, 10},
		{"Update", m.Handler(update), cookie, 12},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "__Host-keycard="+c.cookie)
		w := &discardWriter{h: http.Header{}}
		got := testing.AllocsPerRun(100, func() {
			clear(w.h)
			c.h.ServeHTTP(w, r)
		})
		if c.name == "forged cookie" && raceBuild() {
			// Under the race detector sync.Pool drops entries at random,
			// so the MAC's pooled state allocates now and then.
			continue
		}
		if got > c.budget {
			t.Errorf("%s: %v allocations per request, budget %v", c.name, got, c.budget)
		}
	}
}
