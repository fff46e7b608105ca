package sqlite

import (
	"sync"
	"sync/atomic"
)

// observedVersions is how many observations of a key's version a Store
// remembers for doomedSaves.
const observedVersions = 256

// doomedSaves lets a save that waited for the store's write gate fail at
// once, with no statement, when the store has seen, since the save began,
// its key at another version than the one the save expects.
//
// SQLite runs one write at a time, so when many requests update one
// session together, their saves queue at the write gate, each holding the
// version it loaded. Once one of them succeeds, the others are bound to
// conflict; without this, each would still take the database's write lock
// to run its UPDATE and find that out, and the queue would drain one
// statement at a time, while other handles and processes wait for the
// lock. The store sees versions where its own writes succeed (a save, a
// delete) and where it loads a record: loads also see the versions that
// other handles and processes wrote, as the losing requests reload the
// session to retry. With two handles on one file, 100 concurrent writers
// on one session (keycardtest.RunShared) made about 1,400 conflicting
// UPDATEs before this and make 30 to 200 with it.
//
// The rule: a save P of version w ≥ 1 is doomed by an observation O of
// its key at version v ≠ w (0 for absent) if O began after P began and
// ended before P checks. O took effect at some moment inside P's call, and
// at that moment the stored version was v, not w, so reporting ErrConflict
// for P is what running P at that moment would have done. A save with
// version 0 is never doomed: a record observed live may have expired
// since.
type doomedSaves struct {
	clock atomic.Uint64 // ticks at the start of every observation

	mu   sync.Mutex
	ring [observedVersions]observation // the latest observations
	next int
}

// observation is a version v seen under key by an operation that began at
// tick seq.
type observation struct {
	seq     uint64
	key     string
	version uint64
}

// now returns the current tick: a save records it when it begins, and an
// observation ticks the clock when it begins, so an observation with a
// greater tick began after the save.
func (d *doomedSaves) now() uint64 {
	return d.clock.Load()
}

// tick returns the tick of an observation beginning now.
func (d *doomedSaves) tick() uint64 {
	return d.clock.Add(1)
}

// observe records that the operation that began at tick seq saw version
// under key, 0 meaning no live record.
func (d *doomedSaves) observe(seq uint64, key string, version uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ring[d.next] = observation{seq: seq, key: key, version: version}
	d.next = (d.next + 1) % observedVersions
}

// doomed reports whether a save of version under key that began at tick
// mark is bound to conflict, as described at doomedSaves.
func (d *doomedSaves) doomed(mark uint64, key string, version uint64) bool {
	if version == 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.ring {
		o := &d.ring[i]
		if o.seq > mark && o.version != version && o.key == key {
			return true
		}
	}
	return false
}
