package keycard

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/keycard-go/keycard/store"
)

// A Watch follows one session for a long-lived connection (a WebSocket, a
// server-sent events stream) that outlives the request that opened it:
// Done is closed when the session ends, so the handler can close the
// connection, and Active keeps the session alive while the connection is
// used. Create one with Manager.Watch.
//
// A session ended on the Watch's own instance (Logout, Destroy, Revoke,
// RevokeUser, RevokeOthers, MaxSessionsPerUser, a refresh token's reuse)
// closes Done at once. An end elsewhere (another instance, keycard
// sessions rm, expiry, Config.RevokedBefore) is seen by a check of the
// store every Config.WatchEvery (15 seconds by default; the first check
// at a random point of the first interval, the next ones up to a tenth
// early at random, so that checks do not come in waves), and at the
// session's idle and absolute deadlines. Watches of one session on one instance
// share their checks: the cost is one store load per session per
// WatchEvery (four a minute by default), whatever the number of its
// connections, plus one touch per idle timeout's tenth while the
// connection is active. A rotation or renewal of the session is followed;
// a login as another user ends it.
type Watch struct {
	ws   *watches
	g    *watchGroup // nil once stopped or ended
	done chan struct{}
	err  error // why Done closed; set before it closes
}

// Done returns a channel that is closed when the session ends (logged out,
// revoked, expired, or logged in as another user) or the Watch is stopped.
func (w *Watch) Done() <-chan struct{} { return w.done }

// Active reports that the connection was used (a message sent or
// received), so the session must not expire from inactivity: the next
// check of the store also records the activity, at most once per tenth of
// the idle timeout, as a request would. It never extends the session past
// its absolute deadline. Active costs no store call itself.
func (w *Watch) Active() {
	w.ws.mu.Lock()
	if w.g != nil {
		w.g.active = true
	}
	w.ws.mu.Unlock()
}

// Stop ends the Watch when its connection closes, freeing what it holds.
// Stopping a Watch twice, or after its session ended, does nothing.
func (w *Watch) Stop() {
	w.ws.mu.Lock()
	defer w.ws.mu.Unlock()
	if w.g != nil {
		w.ws.drop(w)
		w.end(context.Canceled)
	}
}

// end closes w's channel with err. ws.mu must be held.
func (w *Watch) end(err error) {
	w.g, w.err = nil, err
	close(w.done)
}

// Watch starts following the request's session for a long-lived
// connection; stop it with Watch.Stop when the connection closes. The
// session must be stored (a new session has nothing to follow: Watch
// reports ErrSessionGone) and not sealed (a sealed session lives only in
// its cookie: store.ErrUnsupported). Call it from the handler, before hijacking
// the connection.
func (m *Manager) Watch(s *Session) (*Watch, error) {
	if m.cfg.Store == nil {
		return nil, fmt.Errorf("keycard: watch: sealed sessions are not stored: %w", store.ErrUnsupported)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ensure() {
		return nil, s.loadErr
	}
	if s.isNew {
		return nil, fmt.Errorf("keycard: watch: %w", ErrSessionGone)
	}
	return m.watches.add(m, s.key, &s.rec), nil
}

// watches holds a Manager's open Watches, grouped by session, and the
// queue of the groups' next checks, which one goroutine runs while any
// Watch is open.
type watches struct {
	mu      sync.Mutex
	groups  map[string]*watchGroup // by the session's current store key
	queue   groupQueue
	wake    chan struct{} // nudges the checker when the queue's head changes
	running bool
}

// watchGroup is the Watches of one session.
type watchGroup struct {
	key     string
	userID  string
	members map[*Watch]struct{}
	active  bool      // some member was active since the last check
	until   time.Time // the session's expiry as last seen: a failing store ends the group past it
	due     time.Time // the next check
	index   int       // in the queue
}

// add opens a Watch on the session stored under key as rec. The first
// Watch of a Manager starts its checker.
func (ws *watches) add(m *Manager, key string, rec *store.Record) *Watch {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.groups == nil {
		ws.groups, ws.wake = make(map[string]*watchGroup), make(chan struct{}, 1)
	}
	g := ws.groups[key]
	if g == nil {
		g = &watchGroup{key: key, userID: rec.UserID, members: make(map[*Watch]struct{}), until: minTime(rec.Expires, rec.Deadline)}
		// The first check comes at a random point of the first interval,
		// so that sessions watched at once are not checked at once.
		now := time.Now()
		first := now.Add(randBelow(m.cfg.WatchEvery) + 1)
		g.due = minTime(first, m.nextCheck(now, rec))
		ws.groups[key] = g
		heap.Push(&ws.queue, g)
		ws.nudge()
	}
	w := &Watch{ws: ws, g: g, done: make(chan struct{})}
	g.members[w] = struct{}{}
	if !ws.running {
		ws.running = true
		go ws.run(m)
	}
	return w
}

// drop removes w from its group, and the group once empty. ws.mu must be
// held.
func (ws *watches) drop(w *Watch) {
	g := w.g
	delete(g.members, w)
	if len(g.members) == 0 {
		ws.remove(g)
	}
}

// remove forgets g. ws.mu must be held.
func (ws *watches) remove(g *watchGroup) {
	if ws.groups[g.key] == g {
		delete(ws.groups, g.key)
	}
	if g.index >= 0 {
		heap.Remove(&ws.queue, g.index)
	}
	if len(ws.queue) == 0 {
		ws.nudge() // so that the checker exits now, not at its next timer
	}
}

// endGroup closes every Watch of g with err. ws.mu must be held.
func (ws *watches) endGroup(g *watchGroup, err error) {
	ws.remove(g)
	for w := range g.members {
		w.end(err)
	}
	clear(g.members)
}

// ended closes the Watches of the session stored under key, which this
// instance just ended.
func (ws *watches) ended(key string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if g := ws.groups[key]; g != nil {
		ws.endGroup(g, ErrSessionGone)
	}
}

// userEnded closes the Watches of every session of userID, which this
// instance just revoked.
func (ws *watches) userEnded(userID string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, g := range ws.groups {
		if g.userID == userID {
			ws.endGroup(g, ErrSessionGone)
		}
	}
}

// moved follows a session this instance rotated or renewed from oldKey to
// newKey; a renewal to another user (a login) ends its Watches.
func (ws *watches) moved(oldKey, newKey, userID string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	g := ws.groups[oldKey]
	if g == nil {
		return
	}
	if g.userID != userID {
		ws.endGroup(g, ErrSessionGone)
		return
	}
	ws.rekey(g, newKey)
}

// rekey moves g to newKey, merging it into a group already there. ws.mu
// must be held.
func (ws *watches) rekey(g *watchGroup, newKey string) {
	delete(ws.groups, g.key)
	if other := ws.groups[newKey]; other != nil && other != g {
		for w := range g.members {
			w.g = other
			other.members[w] = struct{}{}
		}
		other.active = other.active || g.active
		heap.Remove(&ws.queue, g.index)
		return
	}
	g.key = newKey
	ws.groups[newKey] = g
}

// nudge wakes the checker. ws.mu must be held.
func (ws *watches) nudge() {
	select {
	case ws.wake <- struct{}{}:
	default:
	}
}

// run checks each group when it is due, until no Watch is left.
func (ws *watches) run(m *Manager) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		ws.mu.Lock()
		if len(ws.queue) == 0 {
			ws.running = false
			ws.mu.Unlock()
			return
		}
		g := ws.queue[0]
		wait := time.Until(g.due)
		if wait > 0 {
			ws.mu.Unlock()
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ws.wake:
			}
			continue
		}
		key, active := g.key, g.active
		g.active = false
		g.due = time.Now().Add(m.cfg.WatchEvery) // until checked
		heap.Fix(&ws.queue, g.index)
		ws.mu.Unlock()
		ws.check(m, g, key, active)
	}
}

// check loads the session of g from the store and ends, follows or
// reschedules g. A store failure keeps the Watches open until the
// session's idle deadline passes without a successful check.
func (ws *watches) check(m *Manager, g *watchGroup, key string, active bool) {
	ctx := context.Background()
	now := time.Now()
	rec, err := m.sessionStore.Load(ctx, key)
	var next string
	verdict := error(nil)
	switch {
	case errors.Is(err, store.ErrNotFound):
		verdict = ErrSessionGone
	case err != nil:
		m.cfg.Logger.Warn("keycard: watch: checking a session failed", "err", err)
		ws.mu.Lock()
		defer ws.mu.Unlock()
		if g.index >= 0 && g.key == key && !now.Before(g.until) {
			ws.endGroup(g, ErrSessionGone) // past its expiry, unconfirmed
		}
		return // else checked again after WatchEvery
	case !rec.Live(now):
		verdict = ErrSessionGone
	default:
		nextRaw, dead, moved := markers(rec.Data)
		switch {
		case dead || moved:
			if next = m.nextKey(nextRaw); next == "" {
				verdict = ErrSessionGone
			}
		case rec.UserID != g.userID:
			verdict = ErrSessionGone
		default:
			if revoked, err := m.revoked(ctx, rec); err == nil && revoked {
				verdict = ErrSessionGone
			}
		}
	}
	if verdict == nil && next == "" && active {
		idle := m.idleOf(rec)
		if now.Sub(rec.LastSeen) >= idle/10 {
			expires := minTime(now.Add(idle), rec.Deadline)
			if err := m.sessionStore.Touch(ctx, key, now, expires); err == nil {
				rec.LastSeen, rec.Expires = now, expires
			} else if errors.Is(err, store.ErrNotFound) {
				verdict = ErrSessionGone
			}
		}
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if g.index < 0 || g.key != key {
		return // stopped, ended or moved meanwhile
	}
	switch {
	case verdict != nil:
		ws.endGroup(g, verdict)
	case next != "":
		ws.rekey(g, next)
		if ws.groups[next] == g {
			g.due, g.active = now, g.active || active // check the new record now
			heap.Fix(&ws.queue, g.index)
		}
	default:
		g.until = minTime(rec.Expires, rec.Deadline)
		g.due = m.nextCheck(now, rec)
		heap.Fix(&ws.queue, g.index)
	}
}

// nextCheck returns when a session stored as rec is next checked: after
// WatchEvery, less up to a tenth at random, or at its idle or absolute
// deadline if sooner.
func (m *Manager) nextCheck(now time.Time, rec *store.Record) time.Time {
	every := m.cfg.WatchEvery
	every -= randBelow(every/10 + 1)
	return minTime(minTime(now.Add(every), rec.Expires), rec.Deadline)
}

// groupQueue is a min-heap of groups by due time.
type groupQueue []*watchGroup

func (q groupQueue) Len() int           { return len(q) }
func (q groupQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q groupQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *groupQueue) Push(x any) {
	g := x.(*watchGroup)
	g.index = len(*q)
	*q = append(*q, g)
}
func (q *groupQueue) Pop() any {
	old := *q
	g := old[len(old)-1]
	old[len(old)-1] = nil
	g.index = -1
	*q = old[:len(old)-1]
	return g
}
