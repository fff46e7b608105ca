package bench

import (
	"net/http"
	"testing"

	"github.com/keycard-go/keycard/bench/internal/redisctl"
)

// The benchmarks serve one request per iteration, in process, to each
// implementation of the routes (see the package doc), with the same
// client: a fresh request each time and a one-cookie jar. Names are
// Benchmark<Path>/backend=<where sessions live>/lib=<library>, so
//
//	go test -run='^$' -bench=. -benchmem -count=10 | tee raw.txt
//	benchstat -col /lib raw.txt
//
// compares the libraries on each path and backend, Keycard first.
//
// Besides time and allocations each benchmark reports roundtrips/op and
// writes/op: store calls for the memory and SQLite stores, counted by a
// wrapper, and for Redis the commands the clients sent (read from MONITOR,
// so commands run inside scripts do not count) over 100 more requests
// after the timed loop, and only on a private redis-server that no other
// process uses. Per-connection commands (HELLO, CLIENT …) are not counted.

// A path is one kind of request.
type path struct {
	name   string
	url    string
	login  bool // log in once before the loop and send the cookie
	cookie bool // keep the cookies the responses set
}

var (
	pathNew   = path{"new", "/login", false, false} // a login without a session: creates one
	pathRead  = path{"read", "/read", true, true}   // reads the user
	pathWrite = path{"write", "/write", true, true} // increments the counter
	pathLogin = path{"login", "/login", true, true} // a login with a session: renews its ID
)

func BenchmarkNew(b *testing.B)   { benchPath(b, pathNew) }
func BenchmarkRead(b *testing.B)  { benchPath(b, pathRead) }
func BenchmarkWrite(b *testing.B) { benchPath(b, pathWrite) }
func BenchmarkLogin(b *testing.B) { benchPath(b, pathLogin) }

func benchPath(b *testing.B, p path) {
	for _, bi := range implementations() {
		if bi.lib == "bare+get" && p != pathRead {
			continue // the floor of a Redis read; it writes nothing
		}
		b.Run("backend="+bi.backend+"/lib="+bi.lib, func(b *testing.B) {
			impl, _ := bi.make(b, false)
			defer impl.Close()
			c := newClient(impl.Handler)
			p.start(b, c)
			b.ReportAllocs()
			for b.Loop() {
				if st := c.do(p.url, p.login, p.cookie); st != http.StatusOK {
					b.Fatalf("%s: status %d", p.url, st)
				}
			}
			switch {
			case bi.backend == "memory" || bi.backend == "sqlite":
				calls, writes := countCalls(b, bi, p)
				b.ReportMetric(calls, "roundtrips/op")
				b.ReportMetric(writes, "writes/op")
			case bi.backend == "redis" && testRedis.private:
				calls, writes := countRedis(b, c, p)
				b.ReportMetric(calls, "roundtrips/op")
				b.ReportMetric(writes, "writes/op")
			case bi.backend != "redis":
				b.ReportMetric(0, "roundtrips/op")
				b.ReportMetric(0, "writes/op")
			}
		})
	}
}

// start logs c in if p needs it and serves one request of p.
func (p path) start(b *testing.B, c *client) {
	if p.login {
		if st := c.do("/login", false, true); st != http.StatusOK {
			b.Fatalf("login: status %d", st)
		}
	}
	if st := c.do(p.url, p.login, p.cookie); st != http.StatusOK {
		b.Fatalf("%s: status %d", p.url, st)
	}
}

// countCalls serves 100 requests of p to an instance of bi whose store
// counts its calls, and returns the calls and the writes per request.
func countCalls(b *testing.B, bi benchImpl, p path) (calls, writes float64) {
	const n = 100
	impl, ctr := bi.make(b, true)
	defer impl.Close()
	c := newClient(impl.Handler)
	p.start(b, c)
	calls0, writes0 := ctr.counts()
	for range n {
		if st := c.do(p.url, p.login, p.cookie); st != http.StatusOK {
			b.Fatalf("%s: status %d", p.url, st)
		}
	}
	c1, w1 := ctr.counts()
	return float64(c1-calls0) / n, float64(w1-writes0) / n
}

// countRedis serves 100 more requests of p while it watches the Redis
// server, and returns the commands and the writing commands per request.
func countRedis(b *testing.B, c *client, p path) (calls, writes float64) {
	const n = 100
	mon, err := redisctl.StartMonitor(testRedis.addr)
	if err != nil {
		b.Fatal(err)
	}
	for range n {
		if st := c.do(p.url, p.login, p.cookie); st != http.StatusOK {
			b.Fatalf("%s: status %d", p.url, st)
		}
	}
	counts, err := mon.Stop()
	if err != nil {
		b.Fatal(err)
	}
	for name, v := range counts {
		if redisctl.PerRequest(name) {
			calls += float64(v)
			if redisctl.Writes(name) {
				writes += float64(v)
			}
		}
	}
	return calls / n, writes / n
}
