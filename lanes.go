package keycard

import (
	"hash/maphash"
	"sync"

	"github.com/keycard-go/keycard/store"
)

// Requests of one instance that write the same session (a browser tab
// firing parallel requests) take turns in a lane instead of racing each
// other through the store, and each starts from the record the writer
// before it stored, kept in a small table of recent writes: it then saves
// in one compare-and-set, with no store reload and no backoff. Only
// writers of other instances can still conflict, and those conflicts take
// the store path (reload, backoff). A lane exists only while a writer
// holds or waits for it.

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
	mu   sync.Mutex // held by the writer whose turn it is
	refs int        // writers holding or waiting; guarded by lanes.mu
	ls   *lanes
	key  string
}

// enter waits for key's lane and returns it, held; leave it with leave.
func (ls *lanes) enter(key string) *lane {
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
	ls.mu.Unlock()
	l.mu.Lock()
	return l
}

// leave releases l and forgets it when no writer is left. Leaving the
// nil lane does nothing.
func (l *lane) leave() {
	if l == nil {
		return
	}
	l.mu.Unlock()
	ls := l.ls
	ls.mu.Lock()
	if l.refs--; l.refs == 0 {
		delete(ls.m, l.key)
		ls.free.Put(l)
	}
	ls.mu.Unlock()
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
	if l == nil || s.key != l.key || len(s.data) > maxRecentData {
		return
	}
	w := l.slot()
	w.mu.Lock()
	w.key, w.rec = l.key, s.rec
	w.rec.Data = s.data
	w.mu.Unlock()
}
