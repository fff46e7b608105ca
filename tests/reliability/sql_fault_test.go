package reliability_test

import (
	"testing"
	"time"

	"github.com/keycard-go/keycard"
)

// sqlServers are the SQL servers whose connections the drop test cuts:
// each gives the server's address and a backend that dials a proxy.
var sqlServers = []struct {
	name    string
	addr    func(testing.TB) string
	backend func(tb testing.TB, addr string) backend
}{
	{"postgres", postgresServerAddr, postgresBackend},
	{"mysql", mysqlServerAddr, mysqlBackend},
}

// TestSQLConnectionsDroppedDuringLoad puts a proxy between the store's
// connection pool and the server and, in the middle of a load of writes
// and reads, resets every live connection at once, twice, 600 ms apart
// (and again, up to 20 times, until a reset has hit a statement in
// flight: on a loaded machine the workers may all be between statements
// at the moment of a reset), so statements in flight die mid-transaction.
// The requests they served must fail with 503 (and an error log), promptly
// rather than at their deadline, the pool must reconnect by itself so that
// requests succeed again, every write answered 200 must read back
// afterwards, no session may be lost, and no goroutine may be left behind.
func TestSQLConnectionsDroppedDuringLoad(t *testing.T) {
	for _, srv := range sqlServers {
		t.Run(srv.name, func(t *testing.T) {
			p := newProxy(t, srv.addr(t))
			b := srv.backend(t, p.Addr())
			// A request the drop left hanging would end at the
			// StoreTimeout or the request's deadline: both are a
			// minute here, so that it stands out from the slowest
			// request of a loaded machine (see below).
			const guard = time.Minute
			a := newApp(t, b.open(t), keycard.NewKey(), func(c *keycard.Config) { c.StoreTimeout = guard })
			l := newLoad(t, []*app{a}, 32, 8)
			l.reqTimeout = guard
			// Warm up, so the pool holds the connections the load needs.
			l.maxOps = 20
			l.run(nil)
			l.maxOps = 1 << 30
			base := goroutines()
			var dropped []int
			var last time.Time
			began, _ := during(l, 600*time.Millisecond, 600*time.Millisecond, func() {
				dropped = append(dropped, p.DropAll())
				for n := 1; n < 2 || (l.failures() == 0 && n < 20); n++ {
					time.Sleep(600 * time.Millisecond)
					last = time.Now()
					dropped = append(dropped, p.DropAll())
				}
			})
			l.report(t)
			l.verify(t)
			s := l.stats(began, last)
			figure(t, "connections dropped", "%v", dropped)
			figure(t, "requests", "%d (%d failed with 503, %d of them writes; %d writes acknowledged, all read back)", s.total, s.failed, s.failedWrites, s.ackedWrites)
			figure(t, "slowest request", "%v", s.slowest.Round(time.Microsecond))
			figure(t, "last failure after the last drop", "%v", s.lastFail.Round(time.Millisecond))
			figure(t, "first success after the last drop", "%v", s.firstOK.Round(time.Millisecond))
			if s.failed == 0 {
				t.Error("no request failed: the drops hit no statement in flight")
			}
			if l.panics > 0 {
				t.Errorf("%d handler panics", l.panics)
			}
			if got := a.logs.unavailable.Load(); got != int64(s.failed) {
				t.Errorf("%d error logs for %d failed requests; want one each (last: %s)", got, s.failed, a.logs.lastRecord())
			}
			checkRecovery(t, l, s, last, "last drop")
			// A reset connection fails its statement at once (the figure
			// shows it); a request the drop left hanging would wait for
			// the minute's guard. A third of it tells the two apart with
			// a margin no scheduling delay comes near.
			if s.slowest > guard/3 {
				t.Errorf("a request took %v; want every request answered promptly, well before its %v deadline (within %v)", s.slowest, guard, guard/3)
			}
			checkGoroutines(t, base, 5)
		})
	}
}
