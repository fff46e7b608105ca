package reliability_test

import (
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/redis"
)

// failFast is the rueidis option that lets a session load fail while Redis
// is down: by default rueidis retries read-only commands (the store's
// Load is a GET) until the caller's context ends, so without it a load
// waits for Redis to come back. See docs/RELIABILITY.md.
func failFast(o *rueidis.ClientOption) { o.DisableRetry = true }

// redisLoad starts a private redis-server, a Manager over it with a client
// configured by edit, and a load of 32 users on 8 workers, and returns
// them with the number of goroutines once everything is connected.
func redisLoad(t *testing.T, edit ...func(*rueidis.ClientOption)) (*redisServer, *app, *load, int) {
	return redisLoadWith(t, nil, edit...)
}

// redisLoadWith is redisLoad with a Manager configuration edit.
func redisLoadWith(t *testing.T, cfg func(*keycard.Config), edit ...func(*rueidis.ClientOption)) (*redisServer, *app, *load, int) {
	srv := startRedis(t)
	st := redis.New(redisClient(t, srv.Addr, edit...), redis.Config{Prefix: "rel:"})
	a := newApp(t, st, keycard.NewKey(), cfg)
	l := newLoad(t, []*app{a}, 32, 8)
	l.pace = time.Millisecond
	return srv, a, l, goroutines()
}

// during runs l in the background, calls fault after warm, and stops the
// load once settle has passed since fault returned and the load has
// recovered (recoveredRun). It waits for that for up to recoveryLimit, so
// that a slow machine gets the time it needs, and then stops the load
// anyway (checkRecovery then fails). It returns when every request of the
// load has been answered, with the times fault began and returned.
func during(l *load, warm, settle time.Duration, fault func()) (began, ended time.Time) {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		l.run(stop)
	}()
	time.Sleep(warm)
	began = time.Now()
	fault()
	ended = time.Now()
	time.Sleep(settle)
	for limit := ended.Add(recoveryLimit); !l.recovered(ended, recoveredRun(l)) && time.Now().Before(limit); {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	<-done
	return began, ended
}

// checkFailedFast fails t if a request that started in the first quarter
// of a fault of the given length, which ended at back, was still running
// when it ended: it waited for the server rather than failing. Failing
// takes milliseconds, or a deadline of a few hundred (the figures say how
// long), so three quarters of the fault's length, 1.5 s or more, is a
// margin no scheduling delay on a loaded machine comes near; and a request
// that waits for the server is caught however long it waits. Requests
// around the server's return, slowed by reconnecting, do not count: the
// recovery checks bound them. (The callers check that requests failed
// during the fault, so that this check is not passed by requests that
// never started.)
func checkFailedFast(t *testing.T, l *load, back time.Time, length time.Duration) {
	t.Helper()
	if n, longest := l.waited(back.Add(-length*3/4), back); n > 0 {
		t.Errorf("%d requests that started in the first quarter of the %v fault were still running when it ended (the longest took %v): they waited for the server instead of failing fast", n, length, longest)
	}
}

// recoveryLimit bounds how long after a fault the load must be served
// again: the stores' clients reconnect in milliseconds (docs/RELIABILITY.md
// has the figures), so this is only a guard against one that never does,
// and long enough not to fail on a loaded machine.
const recoveryLimit = 30 * time.Second

// recoveredRun is the run of successes that shows a load recovered from
// a fault: 4 requests per worker in a row, all started after the fault
// ended. A run rather than "no failure after the fault": on a loaded
// machine a request with a short deadline may fail now and then with no
// fault at all, while a client that does not recover fails every request.
func recoveredRun(l *load) int { return 4 * l.workers }

// checkRecovery fails t unless, after the fault ended at back, the load
// had a run of successes (recoveredRun). The figures say how soon after
// the fault the first success came, and the last failure.
func checkRecovery(t *testing.T, l *load, s stats, back time.Time, after string) {
	t.Helper()
	if s.firstOK < 0 || !l.recovered(back, recoveredRun(l)) {
		t.Errorf("recovery: no run of %d successful requests within %v after the %s (first success %v after it, last failure %v)", recoveredRun(l), recoveryLimit, after, s.firstOK, s.lastFail)
	}
}

// TestRedisStoppedDuringLoad stops the Redis server (SIGTERM) in the middle
// of a load, keeps it down for 2 s, and starts it again on the same
// port. The client has DisableRetry set (failFast). Redis without
// persistence comes back empty, so what must hold is:
// every request during the outage fails fast with the Manager's 503 and
// an error log (well before the server returns, where a client that
// retried would wait for it), none panics, requests succeed again once the
// server is back, the sessions written before then are gone (a read
// finds no session, a write starts a fresh one), no request ever reads
// data that is not its own, and no goroutine is left behind.
func TestRedisStoppedDuringLoad(t *testing.T) {
	srv, a, l, base := redisLoad(t, failFast)
	l.sessionLoss = true
	l.reqTimeout = 30 * time.Second // a guard: outage requests must end long before
	const outage = 2 * time.Second
	began, back := during(l, 500*time.Millisecond, 500*time.Millisecond, func() {
		srv.Stop()
		time.Sleep(outage)
		srv.Start()
	})
	l.report(t)
	l.verify(t)
	s := l.stats(began, back)
	figure(t, "requests", "%d (%d failed with 503, %d of them writes; %d writes acknowledged)", s.total, s.failed, s.failedWrites, s.ackedWrites)
	figure(t, "slowest failed request", "%v", s.maxFailDur.Round(time.Microsecond))
	figure(t, "slowest request", "%v", s.slowest.Round(time.Microsecond))
	figure(t, "requests started during the outage", "%d", s.during)
	figure(t, "first success after restart", "%v", s.firstOK.Round(time.Millisecond))
	figure(t, "last failure after restart", "%v", s.lastFail.Round(time.Millisecond))
	fresh := 0
	for _, u := range l.users {
		fresh += min(u.fresh, 1)
	}
	figure(t, "users whose session the restart lost", "%d of %d", fresh, len(l.users))
	if l.panics > 0 {
		t.Errorf("%d handler panics", l.panics)
	}
	if s.failedBeforeBack == 0 {
		t.Fatalf("no request failed during the outage (%d failed in all): it was not observed, or requests waited for the server", s.failed)
	}
	checkFailedFast(t, l, back, outage)
	if got := a.logs.unavailable.Load(); got != int64(s.failed) {
		t.Errorf("%d error logs for %d failed requests; want one each (last: %s)", got, s.failed, a.logs.lastRecord())
	}
	checkRecovery(t, l, s, back, "restart")
	if fresh == 0 {
		t.Error("no session was lost, but Redis restarted without persistence: did the restart happen?")
	}
	checkGoroutines(t, base, 5)
}

// TestRedisPausedDuringLoadKeepsSessions freezes the Redis server with
// SIGSTOP for 2 s in the middle of a load whose requests have a 300 ms
// deadline, then resumes it (SIGCONT): the data survives, as it does a
// network partition that heals. Requests during the pause end at their
// deadline with 503, well before the server resumes; afterwards every
// acknowledged write reads back, no session is lost, nothing reads
// foreign data, and no goroutine is left.
func TestRedisPausedDuringLoadKeepsSessions(t *testing.T) {
	srv, a, l, base := redisLoad(t)
	l.reqTimeout = 300 * time.Millisecond
	const pause = 2 * time.Second
	began, back := during(l, 500*time.Millisecond, 500*time.Millisecond, func() {
		srv.Pause()
		time.Sleep(pause)
		srv.Resume()
	})
	l.report(t)
	l.verify(t)
	s := l.stats(began, back)
	figure(t, "requests", "%d (%d failed with 503, %d of them writes; %d writes acknowledged)", s.total, s.failed, s.failedWrites, s.ackedWrites)
	figure(t, "slowest failed request", "%v", s.maxFailDur.Round(time.Millisecond))
	figure(t, "first success after resume", "%v", s.firstOK.Round(time.Millisecond))
	figure(t, "last failure after resume", "%v", s.lastFail.Round(time.Millisecond))
	if s.failedBeforeBack == 0 {
		t.Fatalf("no request failed during the pause (%d failed in all): it was not observed, or requests waited for the server", s.failed)
	}
	// A failed request ends at its deadline (the figure shows how near);
	// one that ignored it would wait for the server to resume.
	checkFailedFast(t, l, back, pause)
	if got := a.logs.unavailable.Load(); got != int64(s.failed) {
		t.Errorf("%d error logs for %d failed requests; want one each", got, s.failed)
	}
	checkRecovery(t, l, s, back, "resume")
	checkGoroutines(t, base, 5)
}

// TestRedisDefaultClientFailsFastWhenStopped: with rueidis's default
// options a Redis outage makes a session load retry until its context ends
// (and net/http gives requests no deadline), so it is the Manager's
// Config.StoreTimeout that turns the outage into prompt 503s: requests
// fail during the outage, at about the StoreTimeout, rather than wait for
// the server to return.
func TestRedisDefaultClientFailsFastWhenStopped(t *testing.T) {
	const storeTimeout, outage = 300 * time.Millisecond, 3 * time.Second
	srv, _, l, _ := redisLoadWith(t, func(c *keycard.Config) { c.StoreTimeout = storeTimeout })
	l.sessionLoss = true
	l.reqTimeout = 30 * time.Second // a guard only
	began, back := during(l, 500*time.Millisecond, 500*time.Millisecond, func() {
		srv.Stop()
		time.Sleep(outage)
		srv.Start()
	})
	s := l.stats(began, back)
	figure(t, "requests", "%d (%d failed)", s.total, s.failed)
	figure(t, "slowest request", "%v (StoreTimeout %v)", s.slowest.Round(time.Millisecond), storeTimeout)
	figure(t, "slowest failed request", "%v", s.maxFailDur.Round(time.Millisecond))
	if s.failedBeforeBack == 0 {
		t.Errorf("no request failed before the server returned (%d failed in all): the outage did not make requests fail fast", s.failed)
	}
	// A request bounded by StoreTimeout fails after about that (the
	// figure); one that waited for the server would still be running
	// when it returned.
	checkFailedFast(t, l, back, outage)
}
