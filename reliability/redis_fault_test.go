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
// load settle after fault returned. It returns when every request of the
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
	close(stop)
	<-done
	return began, ended
}

// TestRedisStoppedDuringLoad stops the Redis server (SIGTERM) in the middle
// of a load, keeps it down for a second, and starts it again on the same
// port. The client has DisableRetry set (failFast). Redis without
// persistence comes back empty, so what must hold is:
// every request during the outage fails fast with the Manager's 503 and
// an error log, none panics, requests succeed again within a second of
// the server's return, the sessions written before then are gone (a read
// finds no session, a write starts a fresh one), no request ever reads
// data that is not its own, and no goroutine is left behind.
func TestRedisStoppedDuringLoad(t *testing.T) {
	srv, a, l, base := redisLoad(t, failFast)
	l.sessionLoss = true
	l.reqTimeout = 5 * time.Second // a guard: outage requests must end long before
	began, back := during(l, 500*time.Millisecond, 1500*time.Millisecond, func() {
		srv.Stop()
		time.Sleep(time.Second)
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
	if s.failed == 0 {
		t.Fatal("no request failed: the outage was not observed")
	}
	if s.slowest > 500*time.Millisecond {
		t.Errorf("a request took %v; want every request, failed or not, within 500 ms (fail fast)", s.slowest)
	}
	if got := a.logs.unavailable.Load(); got != int64(s.failed) {
		t.Errorf("%d error logs for %d failed requests; want one each (last: %s)", got, s.failed, a.logs.lastRecord())
	}
	if s.firstOK < 0 || s.firstOK > time.Second || s.lastFail > time.Second {
		t.Errorf("recovery: first success %v and last failure %v after the restart; want both within 1 s", s.firstOK, s.lastFail)
	}
	if fresh == 0 {
		t.Error("no session was lost, but Redis restarted without persistence: did the restart happen?")
	}
	checkGoroutines(t, base, 5)
}

// TestRedisPausedDuringLoadKeepsSessions freezes the Redis server with
// SIGSTOP for 1.5 s in the middle of a load whose requests have a 300 ms
// deadline, then resumes it (SIGCONT): the data survives, as it does a
// network partition that heals. Requests during the pause end at their
// deadline with 503; afterwards every acknowledged write reads back, no
// session is lost, nothing reads foreign data, and no goroutine is left.
func TestRedisPausedDuringLoadKeepsSessions(t *testing.T) {
	srv, a, l, base := redisLoad(t)
	l.reqTimeout = 300 * time.Millisecond
	began, back := during(l, 500*time.Millisecond, 1500*time.Millisecond, func() {
		srv.Pause()
		time.Sleep(1500 * time.Millisecond)
		srv.Resume()
	})
	l.report(t)
	l.verify(t)
	s := l.stats(began, back)
	figure(t, "requests", "%d (%d failed with 503, %d of them writes; %d writes acknowledged)", s.total, s.failed, s.failedWrites, s.ackedWrites)
	figure(t, "slowest failed request", "%v", s.maxFailDur.Round(time.Millisecond))
	figure(t, "first success after resume", "%v", s.firstOK.Round(time.Millisecond))
	figure(t, "last failure after resume", "%v", s.lastFail.Round(time.Millisecond))
	if s.failed == 0 {
		t.Fatal("no request failed: the pause was not observed")
	}
	if s.maxFailDur > l.reqTimeout+200*time.Millisecond {
		t.Errorf("a failed request took %v; want it to end near its %v deadline", s.maxFailDur, l.reqTimeout)
	}
	if got := a.logs.unavailable.Load(); got != int64(s.failed) {
		t.Errorf("%d error logs for %d failed requests; want one each", got, s.failed)
	}
	if s.firstOK < 0 || s.firstOK > time.Second || s.lastFail > time.Second {
		t.Errorf("recovery: first success %v and last failure %v after the resume; want both within 1 s", s.firstOK, s.lastFail)
	}
	checkGoroutines(t, base, 5)
}

// TestRedisDefaultClientFailsFastWhenStopped: with rueidis's default
// options a Redis outage makes a session load retry until its context ends
// (and net/http gives requests no deadline), so it is the Manager's
// Config.StoreTimeout that turns the outage into prompt 503s.
func TestRedisDefaultClientFailsFastWhenStopped(t *testing.T) {
	srv, _, l, _ := redisLoadWith(t, func(c *keycard.Config) { c.StoreTimeout = 300 * time.Millisecond })
	l.sessionLoss = true
	l.reqTimeout = 10 * time.Second // a guard only
	began, back := during(l, 500*time.Millisecond, time.Second, func() {
		srv.Stop()
		time.Sleep(2 * time.Second)
		srv.Start()
	})
	s := l.stats(began, back)
	figure(t, "requests", "%d (%d failed)", s.total, s.failed)
	figure(t, "slowest request", "%v", s.slowest.Round(time.Millisecond))
	if s.slowest > 500*time.Millisecond {
		t.Errorf("a request took %v during a 2 s outage; want it to fail within 500 ms with 503", s.slowest)
	}
}
