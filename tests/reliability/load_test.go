package reliability_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// A load is a bounded number of simulated users, each with its own session,
// served by a pool of workers through one or more application instances,
// while a test injects a fault. Each user belongs to one worker, so its
// requests never overlap and what it must read back is known exactly: every
// write answered 200 is acknowledged, every other write has an unknown
// outcome. The load checks each read as it goes and records every request
// with its timing, from which the tests compute failures and recovery.
type load struct {
	apps       []*app
	users      []*user
	workers    int
	maxOps     int           // per worker
	reqTimeout time.Duration // each request's deadline; 0 for none
	pace       time.Duration // pause between a worker's requests
	// sessionLoss says the fault may lose stored sessions (a Redis
	// restart without persistence): a user whose session is gone starts
	// a fresh one. Without it, a lost session is an error.
	sessionLoss bool

	mu      sync.Mutex
	records []record
	errs    []string
	panics  int
}

// record is one request of a load.
type record struct {
	start, end time.Time
	code       int
	write      bool
}

// user is one simulated client and what the server must hold for it.
type user struct {
	name   string
	cookie string
	seq    int
	acked  map[string]string // writes answered 200 in the current session
	maybe  map[string]string // writes of unknown outcome in the current session
	fresh  int               // how many times the session was found lost and started afresh
}

// newLoad creates users sessions, logged in on apps[0], each holding an
// "owner" value naming its user.
func newLoad(tb testing.TB, apps []*app, users, workers int) *load {
	tb.Helper()
	l := &load{apps: apps, workers: workers, maxOps: 1 << 30}
	for i := range users {
		u := &user{name: fmt.Sprintf("user%03d", i), acked: map[string]string{}, maybe: map[string]string{}}
		res := mustServe(tb, apps[0].h, "", "/login?u="+u.name+"&owner="+u.name)
		u.cookie = res.cookie
		u.acked["owner"] = u.name
		l.users = append(l.users, u)
	}
	return l
}

// run serves the load until stop is closed or every worker made maxOps
// requests, and returns when every request has been answered.
func (l *load) run(stop <-chan struct{}) {
	var wg sync.WaitGroup
	for w := range l.workers {
		wg.Go(func() {
			var mine []*user
			for i := w; i < len(l.users); i += l.workers {
				mine = append(mine, l.users[i])
			}
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for op := 0; op < l.maxOps; op++ {
				select {
				case <-stop:
					return
				default:
				}
				u := mine[op%len(mine)]
				inst := l.apps[rng.IntN(len(l.apps))]
				if rng.IntN(2) == 0 {
					l.write(inst, u)
				} else {
					l.read(inst, u)
				}
				if l.pace > 0 {
					time.Sleep(l.pace)
				}
			}
		})
	}
	wg.Wait()
}

func (l *load) ctx() (context.Context, context.CancelFunc) {
	if l.reqTimeout > 0 {
		return context.WithTimeout(context.Background(), l.reqTimeout)
	}
	return context.WithCancel(context.Background())
}

// write puts a new key in u's session.
func (l *load) write(inst *app, u *user) {
	u.seq++
	k, v := fmt.Sprintf("k%04d", u.seq), fmt.Sprintf("%s-v%04d", u.name, u.seq)
	ctx, cancel := l.ctx()
	defer cancel()
	res := serve(ctx, inst.h, u.cookie, "/put?"+url.Values{"k": {k}, "v": {v}}.Encode())
	l.note(res, true)
	switch {
	case res.code != http.StatusOK:
		u.maybe[k] = v
	case res.cookie != "":
		if u.cookie != "" {
			// The session was not found, so the write started a new one.
			l.lost(u, "a write was answered with a new session")
		}
		u.cookie = res.cookie
		u.acked, u.maybe = map[string]string{k: v}, map[string]string{}
	case res.expired:
		l.fail("%s: write of %s answered 200 but expired the session cookie", u.name, k)
	default:
		u.acked[k] = v
		delete(u.maybe, k)
	}
}

// read reads u's session and checks it against what u wrote.
func (l *load) read(inst *app, u *user) {
	ctx, cancel := l.ctx()
	defer cancel()
	d, res, err := readDump(ctx, inst.h, u.cookie)
	l.note(res, false)
	if res.code != http.StatusOK {
		return
	}
	if err != nil {
		l.fail("%s: %v", u.name, err)
		return
	}
	if d.New {
		l.lost(u, "a read found no session")
		u.cookie = ""
		u.acked, u.maybe = map[string]string{}, map[string]string{}
		return
	}
	if msg := u.check(d, false); msg != "" {
		l.fail("%s: read: %s", u.name, msg)
	}
}

// check compares a read of u's session with u's model: every acknowledged
// write present with its value, every other value one u tried to write.
// Unknown outcomes that the read settles become acknowledged, or are
// dropped, unless final is false (a later retry could still land).
func (u *user) check(d dump, final bool) string {
	if d.User != "" && d.User != u.name {
		return fmt.Sprintf("session of user %q", d.User)
	}
	for k, want := range u.acked {
		if got, ok := d.Vals[k]; !ok {
			return fmt.Sprintf("acknowledged write %s=%s is missing", k, want)
		} else if got != want {
			return fmt.Sprintf("acknowledged write %s=%s reads %q", k, want, got)
		}
	}
	for k, got := range d.Vals {
		if _, ok := u.acked[k]; ok {
			continue
		}
		want, ok := u.maybe[k]
		if !ok {
			return fmt.Sprintf("holds %s=%q, which this user never wrote in this session", k, got)
		}
		if got != want {
			return fmt.Sprintf("holds %s=%q, want %q", k, got, want)
		}
		// A write answered with an error that was stored anyway: it is
		// there now, so later reads must keep seeing it.
		u.acked[k] = want
		delete(u.maybe, k)
	}
	return ""
}

func (l *load) lost(u *user, why string) {
	u.fresh++
	if !l.sessionLoss {
		l.fail("%s: %s: the session was lost", u.name, why)
	}
}

func (l *load) note(res result, write bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, record{start: res.start, end: res.start.Add(res.dur), code: res.code, write: write})
	if res.panic != nil {
		l.panics++
		l.errs = append(l.errs, fmt.Sprintf("handler panicked: %v", res.panic))
	} else if res.code != http.StatusOK && res.code != http.StatusServiceUnavailable {
		l.errs = append(l.errs, fmt.Sprintf("unexpected %v", res))
	}
}

func (l *load) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
}

// report fails tb with the load's errors, at most 10 of them.
func (l *load) report(tb testing.TB) {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.errs {
		if i == 10 {
			tb.Errorf("... and %d more", len(l.errs)-10)
			break
		}
		tb.Error(e)
	}
}

// verify reads every user's session once more, with no fault, and checks
// it against the model.
func (l *load) verify(tb testing.TB) {
	tb.Helper()
	for _, u := range l.users {
		if u.cookie == "" {
			continue
		}
		for _, inst := range l.apps {
			d, _, err := readDump(context.Background(), inst.h, u.cookie)
			switch {
			case err != nil:
				tb.Errorf("%s: final read: %v", u.name, err)
			case d.New && !l.sessionLoss:
				tb.Errorf("%s: final read: the session is gone", u.name)
			case d.New:
			default:
				if msg := u.check(d, true); msg != "" {
					tb.Errorf("%s: final read: %s", u.name, msg)
				}
			}
		}
	}
}

// stats summarizes the records of a load around a fault that began at
// from and ended (the server back, or the connections dropped) at to.
type stats struct {
	total, failed    int
	failedWrites     int
	ackedWrites      int
	maxFailDur       time.Duration // the slowest failed request
	firstOK          time.Duration // from to until the first success that started after to
	lastFail         time.Duration // from to until the end of the last failure
	failedAfterBack  int           // failures of requests that started after to
	failedBeforeBack int           // failures of requests that ended before to
	during           int           // requests that started between from and to
	slowest          time.Duration // the slowest request, failed or not
}

// recovered reports whether, among the requests answered so far, n in a
// row (in the order they were answered) succeeded, all started at or
// after since.
func (l *load) recovered(since time.Time, n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	run := 0
	for _, r := range l.records {
		if r.code != http.StatusOK || r.start.Before(since) {
			run = 0
			continue
		}
		if run++; run >= n {
			return true
		}
	}
	return false
}

// waited returns how many requests started before until and were still
// running at back, and the longest of them: requests that, during a fault
// that ended at back, waited for it to end rather than failing.
func (l *load) waited(until, back time.Time) (n int, longest time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		if r.start.Before(until) && r.end.After(back) {
			n++
			longest = max(longest, r.end.Sub(r.start))
		}
	}
	return n, longest
}

// failures returns how many requests failed so far.
func (l *load) failures() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.records {
		if r.code != http.StatusOK {
			n++
		}
	}
	return n
}

func (l *load) stats(from, to time.Time) stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s stats
	s.firstOK = -1
	for _, r := range l.records {
		s.total++
		s.slowest = max(s.slowest, r.end.Sub(r.start))
		if !r.start.Before(from) && r.start.Before(to) {
			s.during++
		}
		if r.code == http.StatusOK {
			if r.write {
				s.ackedWrites++
			}
			if !r.start.Before(to) && (s.firstOK < 0 || r.end.Sub(to) < s.firstOK) {
				s.firstOK = r.end.Sub(to)
			}
			continue
		}
		s.failed++
		if r.write {
			s.failedWrites++
		}
		s.maxFailDur = max(s.maxFailDur, r.end.Sub(r.start))
		if !r.start.Before(to) {
			s.failedAfterBack++
		}
		if r.end.Before(to) && !r.start.Before(from) {
			s.failedBeforeBack++
		}
		if r.end.After(from) {
			s.lastFail = max(s.lastFail, r.end.Sub(to))
		}
	}
	return s
}
