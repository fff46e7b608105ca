package reliability_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
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

// Soak settings. The soak runs only with KEYCARD_SOAK=1, so that the
// default run stays fast:
//
//	KEYCARD_SOAK=1 go test -race -run TestSoak -v ./reliability/
//
// KEYCARD_SOAK_DURATION changes its length (a Go duration, 2m by
// default); KEYCARD_SOAK_STORE runs it over another store (memory by
// default, or sqlite, postgres, mysql, redis).
const (
	soakEnv         = "KEYCARD_SOAK"
	soakDurationEnv = "KEYCARD_SOAK_DURATION"
	soakStoreEnv    = "KEYCARD_SOAK_STORE"
	soakWorkers     = 8
	soakClients     = 100 // per worker
	soakEvery       = 5 * time.Second
	soakWarmup      = 10 * time.Second
)

// soakSample is one point of the soak's series.
type soakSample struct {
	at         time.Duration
	heap       uint64 // HeapAlloc after a GC
	goroutines int
	sessions   int // records in the memory store, or -1
	requests   int64
}

// TestSoak serves a steady load for about two minutes with expiry churn:
// 800 clients on 8 workers, sessions of about 600 bytes with a 1 s idle and
// a 3 s absolute timeout, so they keep expiring and new ones keep
// starting; clients also abandon their session now and then (3 % of
// requests), leaving it to expire in the store. Every 5 s it samples the heap (HeapAlloc after a
// GC), the goroutines and the store's size, and prints the series. After
// a 10 s warm-up, the average heap of the last third of the samples must
// stay within 20 % (+1 MiB) of the first third's, and the goroutines
// within 2; requests must not fail.
func TestSoak(t *testing.T) {
	if !envSet(soakEnv) {
		t.Skipf("set %s=1 to run the soak test (about 2 minutes)", soakEnv)
	}
	length := 2 * time.Minute
	if s := os.Getenv(soakDurationEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s: %v", soakDurationEnv, err)
		}
		length = d
	}
	name := cmpOr(os.Getenv(soakStoreEnv), "memory")
	var b backend
	for _, c := range backends() {
		if c.name == name {
			b = c.setup(t)
		}
	}
	if b.open == nil {
		t.Fatalf("%s: unknown store %q", soakStoreEnv, name)
	}
	st := b.open(t)
	mem, _ := st.(*memory.Store)

	var ev events
	a := newApp(t, st, keycard.NewKey(), func(c *keycard.Config) {
		c.Timeouts = keycard.Timeouts{Idle: time.Second, Absolute: 3 * time.Second}
		c.OnEvent = ev.hook
	})
	pad := strings.Repeat("p", 512) // so that each session holds about 600 bytes
	var requests, failures, gone atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range soakWorkers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			cookies := make([]string, soakClients)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.IntN(soakClients)
				if rng.IntN(100) < 3 {
					cookies[i] = "" // the client walks away; its session idles out
				}
				var target string
				switch p := rng.IntN(10); {
				case p < 5:
					target = "/get?k=k"
				case p < 8:
					target = fmt.Sprintf("/put?k=k&v=%d-%s", n, pad)
				default:
					target = "/count"
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				res := serve(ctx, a.h, cookies[i], target)
				cancel()
				requests.Add(1)
				switch {
				case res.code == http.StatusServiceUnavailable && strings.Contains(res.body, keycard.ErrSessionGone.Error()):
					// Update on a session that reached its deadline
					// during the request: the application's answer.
					gone.Add(1)
				case res.code != http.StatusOK:
					if failures.Add(1) <= 5 {
						t.Errorf("%s: %v", target, res)
					}
				}
				switch {
				case res.cookie != "":
					cookies[i] = res.cookie
				case res.expired:
					cookies[i] = ""
				}
				time.Sleep(time.Millisecond)
			}
		})
	}

	// A store that keeps expired records until swept (SQL stores) gets
	// swept every 2 s, as an application would.
	if sw, ok := st.(store.Sweeper); ok {
		wg.Go(func() {
			tick := time.NewTicker(2 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					if _, err := sw.Sweep(ctx); err != nil {
						t.Errorf("sweep: %v", err)
					}
					cancel()
				}
			}
		})
	}

	var series []soakSample
	start := time.Now()
	sample := func() {
		// The load keeps allocating while the heap is measured: the
		// smallest of three readings after a GC is the live heap.
		var live uint64
		for i := range 3 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if i == 0 || ms.HeapAlloc < live {
				live = ms.HeapAlloc
			}
		}
		s := soakSample{at: time.Since(start), heap: live, goroutines: runtime.NumGoroutine(), sessions: -1, requests: requests.Load()}
		if mem != nil {
			s.sessions = mem.Len()
		}
		series = append(series, s)
		t.Logf("soak %6.1fs  heap %7.2f MiB  goroutines %3d  sessions %6d  requests %8d",
			s.at.Seconds(), float64(s.heap)/(1<<20), s.goroutines, s.sessions, s.requests)
	}
	tick := time.NewTicker(soakEvery)
	sample()
	for time.Since(start) < length {
		<-tick.C
		sample()
	}
	tick.Stop()
	close(stop)
	wg.Wait()

	var steady []soakSample
	for _, s := range series {
		if s.at >= soakWarmup {
			steady = append(steady, s)
		}
	}
	if len(steady) < 3 {
		t.Fatalf("only %d samples after the %v warm-up; run longer", len(steady), soakWarmup)
	}
	third := len(steady) / 3
	first, last := steady[:third], steady[len(steady)-third:]
	avg := func(ss []soakSample, f func(soakSample) float64) float64 {
		sum := 0.0
		for _, s := range ss {
			sum += f(s)
		}
		return sum / float64(len(ss))
	}
	heap := func(s soakSample) float64 { return float64(s.heap) / (1 << 20) }
	gor := func(s soakSample) float64 { return float64(s.goroutines) }
	h1, h3 := avg(first, heap), avg(last, heap)
	g1, g3 := avg(first, gor), avg(last, gor)
	elapsed := time.Since(start)
	figure(t, "store", "%s", name)
	figure(t, "requests", "%d in %v (%.0f/s), %d failed, %d updates of a session that expired meanwhile", requests.Load(), elapsed.Round(time.Second), float64(requests.Load())/elapsed.Seconds(), failures.Load(), gone.Load())
	figure(t, "sessions created / expired (idle, absolute) / unknown", "%d / %d, %d / %d",
		ev.count(event.Created, ""), ev.count(event.Expired, event.ReasonIdle), ev.count(event.Expired, event.ReasonAbsolute), ev.count(event.Rejected, event.ReasonUnknown))
	figure(t, "heap MiB first third / last third", "%.2f / %.2f (%+.1f %%)", h1, h3, 100*(h3-h1)/h1)
	figure(t, "goroutines first third / last third", "%.1f / %.1f", g1, g3)
	var b2 strings.Builder
	for _, s := range series {
		fmt.Fprintf(&b2, " %.0fs:%.1fMiB/%dg", s.at.Seconds(), heap(s), s.goroutines)
	}
	figure(t, "series", "%s", b2.String())
	if h3 > h1*1.2+1 {
		t.Errorf("heap grew from %.2f MiB to %.2f MiB on average (first third to last third); want within 20 %% + 1 MiB", h1, h3)
	}
	if g3 > g1+2 {
		t.Errorf("goroutines grew from %.1f to %.1f on average; want within 2", g1, g3)
	}
	// A store hides an expired record (it reads as absent), so the Manager
	// reports an expired session presented again as an unknown ID.
	if ev.count(event.Rejected, event.ReasonUnknown)+ev.count(event.Expired, event.ReasonAbsolute) == 0 {
		t.Error("no session presented again had expired: no churn")
	}
}

// cmpOr returns a, or b if a is empty.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
