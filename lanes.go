package keycard

import (
	"hash/maphash"
	"sync"

	"github.com/keycard-go/keycard/store"
)

// Requests of one instance that write the same session (a browser tab
// firing parallel requests) take turns in a lane instead of racing each
// other through the store, and each turn starts from the record the turn
// before stored, kept in a small table of recent writes: it then saves in
// one compare-and-set, with no store reload and no backoff. The writers
// that queue up while a turn's save is in flight are served together by
// the next turn (see groupcommit.go): one compare-and-set stores all
// their changes, so a hot session's writes cost one store round trip per
// turn, not per request. Only writers of other instances can still
// conflict, and those conflicts take the store path (reload, backoff). A
// lane exists only while a writer holds, waits for or is served in it.

// lanes holds the lanes of the sessions being written now, by store key,
// and the table of recent writes.
type lanes struct {
	mu     sync.Mutex
	m      map[string]*lane
	free   sync.Pool // of *lane, so that a write allocates none
	seed   maphash.Seed
	recent [recentSlots]recentWrite
}

// recentSlots is the size of the table of recent writes: a write replaces
// whatever write of another session shared its slot, which only costs that
// session's next stale writer a store reload.
const recentSlots = 1024

// maxRecentData bounds the values a recent write keeps, so that the table
// holds at most recentSlots × maxRecentData bytes of values.
const maxRecentData = 16 << 10

// recentWrite is a record as this instance last stored it. Its Data is
// the encoding the session saved, which nothing modifies afterwards.
type recentWrite struct {
	mu  sync.Mutex
	key string
	rec store.Record
}

// lane serializes one instance's writes to one session.
type lane struct {
	refs  int           // writers holding, waiting for or served in the lane
	busy  bool          // a writer holds the lane
	queue []*laneWaiter // the writers waiting, in arrival order
	ls    *lanes
	key   string
} // every field but ls and key is guarded by lanes.mu

// A laneWaiter is a writer waiting in a lane.
type laneWaiter struct {
	c    *change // its changes, for a turn to save with its own; nil to wait for a turn alone
	turn chan laneTurn
}

// A laneTurn ends a writer's wait. Either the writer holds the lane (own
// and batch set when other writers' changes are to be saved with its
// own, own being its own changes), or the writer who held the lane saved
// the writer's changes (served, with err the writer's own failure).
type laneTurn struct {
	own    *change
	batch  []*laneWaiter
	served *batchResult
	err    error
}

// enter waits for key's lane and returns it with the turn that ended the
// wait: held (served nil; leave it with leave), or served (call done).
// A writer that finds the lane busy queues with c, the changes s would
// save with update (see Session.pending); a nil c waits for a turn alone.
func (ls *lanes) enter(key string, s *Session, update func(map[string][]byte) error) (*lane, laneTurn) {
	ls.mu.Lock()
	if ls.m == nil {
		ls.m = make(map[string]*lane)
		ls.seed = maphash.MakeSeed()
	}
	l := ls.m[key]
	if l == nil {
		l, _ = ls.free.Get().(*lane)
		if l == nil {
			l = &lane{ls: ls}
		}
		l.key = key
		ls.m[key] = l
	}
	l.refs++
	if !l.busy {
		l.busy = true
		ls.mu.Unlock()
		return l, laneTurn{}
	}
	ls.mu.Unlock()
	// Busy: take note of the changes outside the lock, then queue, unless
	// the lane came free meanwhile.
	var c *change
	if s != nil {
		c = s.pending(update)
	}
	ls.mu.Lock()
	if !l.busy {
		l.busy = true
		ls.mu.Unlock()
		return l, laneTurn{}
	}
	w := &laneWaiter{c: c, turn: make(chan laneTurn, 1)}
	l.queue = append(l.queue, w)
	ls.mu.Unlock()
	return l, <-w.turn
}

// leave ends the holder's turn: the first waiter, if any, gets the next
// turn, with every other waiter that queued with changes as its batch,
// unless it waits for a turn alone. Leaving the nil lane does nothing.
func (l *lane) leave() {
	if l == nil {
		return
	}
	ls := l.ls
	ls.mu.Lock()
	var next *laneWaiter
	var t laneTurn
	if len(l.queue) > 0 {
		next, t.own = l.queue[0], l.queue[0].c
		var keep []*laneWaiter
		for _, w := range l.queue[1:] {
			if next.c != nil && w.c != nil {
				t.batch = append(t.batch, w)
			} else {
				keep = append(keep, w)
			}
		}
		l.queue = keep
	} else {
		l.busy = false
	}
	l.release()
	ls.mu.Unlock()
	if next != nil {
		next.turn <- t
	}
}

// done ends the stay of a writer that was served.
func (l *lane) done() {
	l.ls.mu.Lock()
	l.release()
	l.ls.mu.Unlock()
}

// release drops one writer's reference, and forgets the lane when none is
// left. lanes.mu must be held.
func (l *lane) release() {
	if l.refs--; l.refs == 0 {
		delete(l.ls.m, l.key)
		l.busy, l.queue = false, nil
		l.ls.free.Put(l)
	}
}

// slot returns the recent-write slot of l's session.
func (l *lane) slot() *recentWrite {
	return &l.ls.recent[maphash.String(l.ls.seed, l.key)%recentSlots]
}

// ahead reports the record this instance last stored for l's session if
// it is newer than version, the one the current writer started from,
// which holds the session under key. A nil lane is never ahead, nor one
// whose writer has moved to another key (a reload followed a rotation):
// the lane's records are those of the key it was entered for.
func (l *lane) ahead(key string, version uint64) (store.Record, bool) {
	if l == nil || key != l.key {
		return store.Record{}, false
	}
	w := l.slot()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.key != l.key || w.rec.Version <= version {
		return store.Record{}, false
	}
	return w.rec, true
}

// record keeps what s just stored, for the session's next stale writer.
func (l *lane) record(s *Session) {
	if l == nil || s.key != l.key || len(s.rec.Data) > maxRecentData {
		return
	}
	w := l.slot()
	w.mu.Lock()
	w.key, w.rec = l.key, s.rec
	w.mu.Unlock()
}
