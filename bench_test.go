package keycard

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The benchmarks compare the middleware's read and write paths with the
// same handler served bare, in the same run; report them with benchstat.

func benchHandler(sessions bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sessions {
			s := FromContext(r.Context())
			v, _ := Get[string](s, "user")
			w.Write([]byte(v))
			return
		}
		w.Write([]byte("bench"))
	})
}

func runBench(b *testing.B, h http.Handler, cookie string) {
	r := httptest.NewRequest("GET", "/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", "__Host-keycard="+cookie)
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchSession(b testing.TB) (*Manager, string) {
	m, err := New(Config{Keys: []Key{testKey(1)}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Put("user", "bench")
		s.Put("counter", 0)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	return m, sessionCookie(w.Result(), "__Host-keycard").Value
}

func BenchmarkBareHandler(b *testing.B) {
	runBench(b, benchHandler(false), "")
}

func BenchmarkMiddlewareUntouched(b *testing.B) {
	m, cookie := benchSession(b)
	runBench(b, m.Handler(benchHandler(false)), cookie)
}

func BenchmarkMiddlewareRead(b *testing.B) {
	m, cookie := benchSession(b)
	runBench(b, m.Handler(benchHandler(true)), cookie)
}

func BenchmarkMiddlewareWrite(b *testing.B) {
	m, cookie := benchSession(b)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		n, _ := Get[int](s, "counter")
		s.Put("counter", n+1)
	}))
	runBench(b, h, cookie)
}

func BenchmarkMiddlewareUpdate(b *testing.B) {
	m, cookie := benchSession(b)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Update(r.Context(), FromContext(r.Context()), "counter", func(n int) int { return n + 1 })
	}))
	runBench(b, h, cookie)
}

func BenchmarkMiddlewareForgedCookie(b *testing.B) {
	m, cookie := benchSession(b)
	forged := cookie[:50] + "AAAA" + cookie[54:]
	runBench(b, m.Handler(benchHandler(true)), forged)
}
