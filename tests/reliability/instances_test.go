package reliability_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
)

// The cross-instance workload: three Managers with the same keys over one
// store (three handles on it, as three application instances would have),
// and many goroutines that pick a session and an instance at random and
// read it, write a new key in it, increment its counter with Update, renew
// its ID with Manager.Renew, log it out, or replay one of its dead cookies.
// A model of each session records what the server must hold, and an
// invariant checker compares every read, and a final read of every
// session on every instance, with it:
//
//   - no lost update: every write answered 200 is present (unless its
//     session was logged out since), and every counter equals the number
//     of increments answered 200;
//   - no foreign data: a session holds only its own user and values;
//   - no session readable after logout: once a logout is answered, every
//     cookie the session ever had (across renewals) reads as a new,
//     anonymous session, on every instance, and so does every cookie a
//     live session was renewed away from;
//   - no resurrection: nothing written to a session while it is logged out
//     brings it back.
//
// Reads, writes and increments race each other and logouts freely. A
// renewal of a session runs alone (no other request of that session is
// in flight): Renew copies the session as it loaded it, so a write that
// lands meanwhile is lost, and two concurrent renewals fork the session.
// Those are gaps reported in docs/RELIABILITY.md, reproduced by
// TestRenewRacingAWriteLosesIt, TestConcurrentRenewsForkTheSession and
// TestRenewRacingLogoutResurrectsTheSession.
const (
	workloadOps      = 3000
	workloadWorkers  = 12
	workloadSessions = 10
	workloadTime     = 30 * time.Second
)

func TestInstancesShareSessionsWithoutLosingUpdates(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			w := newWorkload(t, b.setup(t))
			w.run(t, true)
		})
	}
}

// TestInstancesWithRacingRenews runs the same workload with renewals
// racing every other request of their session, over the memory store. The
// forks, resurrections and lost writes it found are fixed (see
// TestRenewRacing* and TestConcurrentRenewsForkTheSession, which run every
// time), but a request that presents the pre-renewal cookie after the
// renewal retired it is refused (503, or an anonymous view), by design:
// a privilege change grants the old ID no grace. The model cannot tell
// those from lost writes, so this run is opt-in.
func TestInstancesWithRacingRenews(t *testing.T) {
	if !envSet("KEYCARD_RACING_RENEWS") {
		t.Skip("requests racing a renewal with the old cookie are refused by design; set KEYCARD_RACING_RENEWS=1 to run")
	}
	w := newWorkload(t, memoryBackend(t))
	w.run(t, false)
}

// workload is the shared state of one run.
type workload struct {
	apps []*app

	mu       sync.Mutex
	sessions []*model
	seq      atomic.Int64 // distinct write keys and user names
	counts   map[string]int
	errs     []string
}

// model is what the server must hold for one session.
type model struct {
	name string

	// life orders renewals against everything else on this session: a
	// renewal takes it exclusively (when renewals are serialized), other
	// requests share it. lifecycle keeps renewals and logouts apart.
	life      sync.RWMutex
	lifecycle sync.Mutex

	mu           sync.Mutex
	cookie       string              // the current cookie
	cookies      []string            // every cookie the session had, current last
	dead         bool                // a logout was answered
	loggingOut   bool                // a logout was sent
	renewGen     int                 // odd while a renewal is in flight; +2 per renewal
	tried        map[string]string   // every write sent: key → value
	acked        map[string]struct{} // writes answered 200 in the session
	countStarted int                 // increments sent
	countAcked   int                 // increments answered 200
}

func newWorkload(t *testing.T, b backend) *workload {
	key := keycard.NewKey()
	w := &workload{counts: map[string]int{}}
	for range 3 {
		// StoreTimeout is a guard, as the requests' deadline is (reqCtx):
		// on a loaded machine a store call queued behind the others of
		// 12 workers can take longer than the default 5 s, and its 503
		// would count as a lost write.
		w.apps = append(w.apps, newApp(t, b.open(t), key, func(c *keycard.Config) { c.StoreTimeout = time.Minute }))
	}
	for range workloadSessions {
		w.login(t, w.apps[0])
	}
	return w
}

// login creates a new session for a new user, holding an owner value.
func (w *workload) login(t *testing.T, inst *app) {
	name := fmt.Sprintf("user%04d", w.seq.Add(1))
	res := serve(context.Background(), inst.h, "", "/login?u="+name+"&owner="+name)
	if res.code != http.StatusOK || res.cookie == "" {
		w.fail("login %s: %v", name, res)
		return
	}
	m := &model{name: name, cookie: res.cookie, cookies: []string{res.cookie},
		tried: map[string]string{"owner": name}, acked: map[string]struct{}{"owner": {}}}
	w.mu.Lock()
	w.sessions = append(w.sessions, m)
	w.mu.Unlock()
}

func (w *workload) fail(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, fmt.Sprintf(format, args...))
}

func (w *workload) note(what string) {
	w.mu.Lock()
	w.counts[what]++
	w.mu.Unlock()
}

// run runs the workload and checks it. With serialRenew, a renewal runs
// alone on its session (see the comment at the top).
func (w *workload) run(t *testing.T, serialRenew bool) {
	var ops atomic.Int64
	start := time.Now()
	until := start.Add(workloadTime)
	var wg sync.WaitGroup
	for g := range workloadWorkers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), uint64(start.UnixNano())))
			for ops.Add(1) <= workloadOps && time.Now().Before(until) {
				w.mu.Lock()
				m := w.sessions[rng.IntN(len(w.sessions))]
				w.mu.Unlock()
				inst := w.apps[rng.IntN(len(w.apps))]
				switch p := rng.IntN(100); {
				case p < 30:
					w.read(inst, m)
				case p < 55:
					w.write(inst, m)
				case p < 75:
					w.count(inst, m)
				case p < 85:
					w.replay(inst, m, rng)
				case p < 95:
					w.renew(inst, m, serialRenew)
				default:
					if w.logout(inst, m) {
						w.login(t, w.apps[rng.IntN(len(w.apps))])
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	w.verify()
	for i, e := range w.errs {
		if i == 15 {
			t.Errorf("... and %d more", len(w.errs)-15)
			break
		}
		t.Error(e)
	}
	figure(t, "operations", "%d in %v over 3 instances, %d sessions (%v)", min(ops.Load(), workloadOps), elapsed.Round(time.Millisecond), len(w.sessions), w.counts)
}

// ctx bounds every request of the workload: a guard against a hang, a
// thousand times what a request takes, so that a loaded machine does not
// turn slow requests into failures.
func reqCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Minute)
}

// read reads the session and checks it against the model.
func (w *workload) read(inst *app, m *model) {
	m.life.RLock()
	defer m.life.RUnlock()
	m.mu.Lock()
	if m.dead {
		m.mu.Unlock()
		return
	}
	cookie, gen := m.cookie, m.renewGen
	acked := make([]string, 0, len(m.acked))
	for k := range m.acked {
		acked = append(acked, k)
	}
	countAcked := m.countAcked
	m.mu.Unlock()

	ctx, cancel := reqCtx()
	defer cancel()
	d, res, err := readDump(ctx, inst.h, cookie)
	if err != nil {
		w.fail("%s: read: %v", m.name, err)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if d.New {
		switch {
		case m.loggingOut:
		case raced(gen, m.renewGen):
			w.note("read raced a renewal")
		default:
			w.fail("%s: a read found no session, and no logout was sent", m.name)
		}
		return
	}
	if res.expired || res.cookie != "" {
		w.fail("%s: a read of a live session changed its cookie", m.name)
	}
	w.check(m, d, acked, countAcked, "read")
}

// check compares a read of m with what m must hold: the acknowledged keys
// given, every value one m tried to write, and a counter between
// countAcked and the increments sent. m.mu must be held.
func (w *workload) check(m *model, d dump, acked []string, countAcked int, what string) {
	if d.User != m.name {
		w.fail("%s: %s: the session belongs to %q", m.name, what, d.User)
	}
	for _, k := range acked {
		if _, ok := d.Vals[k]; !ok {
			w.fail("%s: %s: the acknowledged write %s is missing", m.name, what, k)
		}
	}
	for k, v := range d.Vals {
		if want, ok := m.tried[k]; !ok || v != want {
			w.fail("%s: %s: holds %s=%q, which it was never sent", m.name, what, k, v)
		}
	}
	if d.Counter < countAcked || d.Counter > m.countStarted {
		w.fail("%s: %s: counter %d, want between %d acknowledged and %d sent increments", m.name, what, d.Counter, countAcked, m.countStarted)
	}
}

// write puts a new key in the session.
func (w *workload) write(inst *app, m *model) {
	m.life.RLock()
	defer m.life.RUnlock()
	m.mu.Lock()
	if m.dead {
		m.mu.Unlock()
		return
	}
	k := fmt.Sprintf("w%06d", w.seq.Add(1))
	v := m.name + "-" + k
	m.tried[k] = v
	cookie, gen := m.cookie, m.renewGen
	m.mu.Unlock()

	ctx, cancel := reqCtx()
	defer cancel()
	res := serve(ctx, inst.h, cookie, "/put?"+url.Values{"k": {k}, "v": {v}}.Encode())
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case res.code == http.StatusOK && res.cookie == "" && !res.expired:
		m.acked[k] = struct{}{}
	case m.loggingOut:
		// Raced a logout: dropped (200 with the cookie expired), or
		// written to a new anonymous session (200 with a new cookie).
		w.note("write raced a logout")
	case raced(gen, m.renewGen):
		w.note("write raced a renewal")
	default:
		w.fail("%s: write %s on a live session: %v (new cookie %v, expired %v)", m.name, k, res, res.cookie != "", res.expired)
	}
}

// count increments the session's counter with keycard.Update.
func (w *workload) count(inst *app, m *model) {
	m.life.RLock()
	defer m.life.RUnlock()
	m.mu.Lock()
	if m.dead {
		m.mu.Unlock()
		return
	}
	m.countStarted++
	cookie, gen := m.cookie, m.renewGen
	m.mu.Unlock()

	ctx, cancel := reqCtx()
	defer cancel()
	res := serve(ctx, inst.h, cookie, "/count")
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case res.code == http.StatusOK && res.cookie == "" && !res.expired:
		m.countAcked++
	case m.loggingOut:
		w.note("increment raced a logout")
	case raced(gen, m.renewGen):
		w.note("increment raced a renewal")
	default:
		w.fail("%s: increment on a live session: %v", m.name, res)
	}
}

// replay presents a dead cookie: any cookie of a logged-out session, or
// one a live session was renewed away from. It must read as a new,
// anonymous session.
func (w *workload) replay(inst *app, m *model, rng *rand.Rand) {
	m.life.RLock()
	defer m.life.RUnlock()
	m.mu.Lock()
	dead := m.dead
	old := m.cookies
	if !dead {
		old = old[:len(old)-1] // the renewed-away ones
	}
	if len(old) == 0 {
		m.mu.Unlock()
		return
	}
	cookie := old[rng.IntN(len(old))]
	m.mu.Unlock()

	ctx, cancel := reqCtx()
	defer cancel()
	d, _, err := readDump(ctx, inst.h, cookie)
	switch {
	case err != nil:
		w.fail("%s: replay: %v", m.name, err)
	case !d.New || d.User != "" || len(d.Vals) != 0:
		w.fail("%s: a dead cookie (logged out %v) reads a session: %+v", m.name, dead, d)
	default:
		w.note("dead cookie replayed")
	}
}

// renew gives the session a new ID with Manager.Renew. With serial set it
// runs alone on its session; without, it races everything, other
// renewals and logouts included.
func (w *workload) renew(inst *app, m *model, serial bool) {
	if serial {
		m.lifecycle.Lock()
		defer m.lifecycle.Unlock()
		m.life.Lock()
		defer m.life.Unlock()
	}
	m.mu.Lock()
	dead, cookie := m.dead, m.cookie
	if !dead {
		m.renewGen++
	}
	m.mu.Unlock()
	if dead {
		return
	}
	ctx, cancel := reqCtx()
	defer cancel()
	res := serve(ctx, inst.h, cookie, "/renew")
	ok := res.code == http.StatusOK && res.cookie != "" && res.cookie != cookie
	if ok && !serial {
		// A renewal that raced may have renewed a session it found gone
		// into a new, empty one: adopt its cookie only if it holds m.
		d, _, err := readDump(ctx, inst.h, res.cookie)
		ok = err == nil && d.User == m.name
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.renewGen++
	switch {
	case ok:
		m.cookie = res.cookie
		m.cookies = append(m.cookies, res.cookie)
		w.note("renewed")
	case serial && !m.loggingOut:
		w.fail("%s: renew: %v", m.name, res)
	}
}

// raced reports whether a request that began at renewal generation
// before and ended at now overlapped a renewal.
func raced(before, now int) bool { return before != now || before%2 == 1 }

// logout logs the session out and reports whether it did.
func (w *workload) logout(inst *app, m *model) bool {
	m.lifecycle.Lock()
	defer m.lifecycle.Unlock()
	m.mu.Lock()
	if m.dead {
		m.mu.Unlock()
		return false
	}
	m.loggingOut = true
	cookie := m.cookie
	m.mu.Unlock()

	ctx, cancel := reqCtx()
	defer cancel()
	res := serve(ctx, inst.h, cookie, "/logout")
	m.mu.Lock()
	defer m.mu.Unlock()
	if res.code != http.StatusOK || !res.expired {
		w.fail("%s: logout: %v (expired %v)", m.name, res, res.expired)
		return false
	}
	m.dead = true
	w.note("logged out")
	return true
}

// verify reads every session through every instance once the workload is
// over: live ones must hold exactly what the model says, and every cookie
// of a dead one must read as a new session.
func (w *workload) verify() {
	for _, m := range w.sessions {
		for i, inst := range w.apps {
			if m.dead {
				for _, c := range m.cookies {
					d, _, err := readDump(context.Background(), inst.h, c)
					if err != nil || !d.New || d.User != "" || len(d.Vals) != 0 {
						w.fail("%s (logged out): instance %d reads %+v, %v with one of its cookies", m.name, i, d, err)
					}
				}
				continue
			}
			d, _, err := readDump(context.Background(), inst.h, m.cookie)
			if err != nil || d.New {
				w.fail("%s: final read on instance %d: %+v, %v; the session is gone", m.name, i, d, err)
				continue
			}
			var acked []string
			for k := range m.acked {
				acked = append(acked, k)
			}
			w.check(m, d, acked, m.countAcked, fmt.Sprintf("final read on instance %d", i))
			if d.Counter != m.countAcked {
				w.fail("%s: final counter %d on instance %d; want exactly the %d acknowledged increments", m.name, d.Counter, i, m.countAcked)
			}
			for k := range d.Vals {
				if _, ok := m.acked[k]; !ok {
					w.fail("%s: final read on instance %d holds %s, whose write was not acknowledged", m.name, i, k)
				}
			}
			for _, c := range m.cookies[:len(m.cookies)-1] {
				if d, _, err := readDump(context.Background(), inst.h, c); err != nil || !d.New {
					w.fail("%s: a cookie it was renewed away from reads %+v, %v on instance %d", m.name, d, err, i)
				}
			}
		}
	}
}
