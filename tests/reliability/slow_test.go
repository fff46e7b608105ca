package reliability_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// slowStores are the slow stores the deadline test runs against: a
// store.Store wrapper that delays every call, and each real store behind a
// proxy that delays every chunk it forwards. Each returns the store and a
// function that sets its latency.
var slowStores = []struct {
	name string
	open func(tb testing.TB) (store.Store, func(time.Duration))
}{
	{"wrapper over memory", func(tb testing.TB) (store.Store, func(time.Duration)) {
		s := &slowStore{Store: memory.New(memory.Config{})}
		return s, func(d time.Duration) { s.delay.Store(int64(d)) }
	}},
	{"postgres behind a slow proxy", func(tb testing.TB) (store.Store, func(time.Duration)) {
		p := newProxy(tb, postgresServerAddr(tb))
		return postgresBackend(tb, p.Addr()).open(tb), p.SetDelay
	}},
	{"mysql behind a slow proxy", func(tb testing.TB) (store.Store, func(time.Duration)) {
		p := newProxy(tb, mysqlServerAddr(tb))
		return mysqlBackend(tb, p.Addr()).open(tb), p.SetDelay
	}},
	{"redis behind a slow proxy", func(tb testing.TB) (store.Store, func(time.Duration)) {
		p := newProxy(tb, redisAddr())
		return redisBackend(tb, redisAddr(), p.Addr()).open(tb), p.SetDelay
	}},
}

// TestSlowStoreHonoursRequestDeadline gives the store a latency of 5 s and
// sends requests whose context has a 100 ms deadline: a read, a write, a
// counter update and the creation of a new session. Each must be answered
// 503 at its deadline (the figures say how near), well before the store
// would have answered (in less than its latency), without a cookie for a
// session that was never stored; no goroutine may be left running; and
// once the latency is gone the session reads back intact. (A longer
// latency would widen the margin, but pgx's cleanup of a cancelled
// connection goes through the slow proxy and takes about twice the
// latency, which checkGoroutines must wait out within its 30 s.)
func TestSlowStoreHonoursRequestDeadline(t *testing.T) {
	const latency, limit = 5 * time.Second, 100 * time.Millisecond
	for _, c := range slowStores {
		t.Run(c.name, func(t *testing.T) {
			st, setDelay := c.open(t)
			a := newApp(t, st, keycard.NewKey(), nil)
			cookie := mustServe(t, a.h, "", "/put?k=kept&v=before").cookie
			mustServe(t, a.h, cookie, "/get?k=kept")
			base := goroutines()
			setDelay(latency)
			for _, target := range []struct{ cookie, path string }{
				{cookie, "/get?k=kept"},
				{cookie, "/put?k=other&v=during"},
				{cookie, "/count"},
				{"", "/put?k=new&v=during"},
			} {
				ctx, cancel := context.WithTimeout(context.Background(), limit)
				res := serve(ctx, a.h, target.cookie, target.path)
				cancel()
				figure(t, target.path+" answered", "%d in %v", res.code, res.dur.Round(time.Millisecond))
				// A request that waited for the store would take its
				// latency at least: one that ends sooner did not, and
				// the 4.9 s between the deadline and the latency is a
				// margin no scheduling delay comes near.
				if res.code != http.StatusServiceUnavailable || res.dur >= latency {
					t.Errorf("%s with a %v deadline against a %v store: %v; want 503 at the deadline, before the store answers", target.path, limit, latency, res)
				}
				if res.cookie != "" {
					t.Errorf("%s: a failed request set a session cookie", target.path)
				}
			}
			checkGoroutines(t, base, 3)
			setDelay(0)
			if got := mustServe(t, a.h, cookie, "/get?k=kept").body; got != "before" {
				t.Errorf("after the latency: kept reads %q, want before", got)
			}
		})
	}
}

// TestSlowStoreWithoutRequestDeadline: a request whose context has no
// deadline, as net/http gives every request, still gets its 503 in bounded
// time, because the Manager bounds each store call with
// Config.StoreTimeout (security requirement S-68: "Store calls have
// context deadlines"). The store stalls for 10 s and gives up only when its
// context ends, so the request ends at the StoreTimeout or not before the
// stall does.
func TestSlowStoreWithoutRequestDeadline(t *testing.T) {
	const storeTimeout, stall = 300 * time.Millisecond, 10 * time.Second
	s := &slowStore{Store: memory.New(memory.Config{})}
	a := newApp(t, s, keycard.NewKey(), func(c *keycard.Config) { c.StoreTimeout = storeTimeout })
	cookie := mustServe(t, a.h, "", "/put?k=kept&v=before").cookie
	s.delay.Store(int64(stall))
	res := serve(context.Background(), a.h, cookie, "/get?k=kept")
	figure(t, "request without a deadline answered", "%d in %v (StoreTimeout %v)", res.code, res.dur.Round(time.Millisecond), storeTimeout)
	// Half the stall is 16 StoreTimeouts: a margin no scheduling delay
	// comes near; the figure says how near the StoreTimeout it ended.
	if res.dur > stall/2 || res.code != http.StatusServiceUnavailable {
		t.Errorf("a request with no deadline of its own got %d after %v from a store stalled for %v; want 503 at the %v StoreTimeout, well before the stall ends (within %v)", res.code, res.dur, stall, storeTimeout, stall/2)
	}
}
