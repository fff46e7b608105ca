package memory

import (
	"container/heap"
	"sync"
	"time"

	"github.com/keycard-go/keycard/store"
)

// shard is one independently locked part of a Store: the records whose key
// hashes to it, and two queues of the same records, soonest-expiring
// first: the signed-in ones and the anonymous ones.
type shard struct {
	mu    sync.RWMutex // read-locked by Load alone, so a hot session's reads do not queue
	items map[string]*item
	queue queue // records with a UserID
	anon  queue // records without

	_ [64]byte // keeps neighbouring shards' locks on separate cache lines
}

// item is one record held by a shard.
type item struct {
	key   string
	rec   store.Record // a private copy; Data is never shared with callers
	index int          // position in its queue
	anon  bool         // in the anonymous queue: rec.UserID was "" when queued
}

// queueOf returns the queue that holds it.
func (sh *shard) queueOf(it *item) *queue {
	if it.anon {
		return &sh.anon
	}
	return &sh.queue
}

// due returns when the record expires: the earlier of Expires and Deadline.
func (it *item) due() time.Time {
	if it.rec.Deadline.Before(it.rec.Expires) {
		return it.rec.Deadline
	}
	return it.rec.Expires
}

// live reports whether the record has not expired at now.
func (it *item) live(now time.Time) bool {
	return now.Before(it.due())
}

// set makes the item's record a copy of rec with the given version, reusing
// the item's data buffer when its size fits.
func (it *item) set(rec *store.Record, version uint64) {
	buf := it.rec.Data
	it.rec = *rec
	it.rec.Version = version
	if cap(buf) < len(rec.Data) || cap(buf) > 2*len(rec.Data)+64 {
		buf = make([]byte, 0, len(rec.Data))
	}
	it.rec.Data = append(buf[:0], rec.Data...)
}

// copyTo sets *rec to a copy of the item's record, Data included.
func (it *item) copyTo(rec *store.Record) {
	data := append([]byte(nil), it.rec.Data...)
	*rec = it.rec
	rec.Data = data
}

// queue is a min-heap of items ordered by due time; it implements
// heap.Interface and keeps every item's index current.
type queue []*item

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].due().Before(q[j].due()) }

func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *queue) Push(x any) {
	it := x.(*item)
	it.index = len(*q)
	*q = append(*q, it)
}

func (q *queue) Pop() any {
	old := *q
	n := len(old) - 1
	it := old[n]
	old[n] = nil
	it.index = -1
	*q = old[:n]
	return it
}

// next returns the item that expires soonest, or nil if the queue is empty.
func (q queue) next() *item {
	if len(q) == 0 {
		return nil
	}
	return q[0]
}

// The methods below change a shard's records. They must be called with
// sh.mu held, and keep the user index and the store's count in step.

// shardFor returns the shard that holds key.
func (s *Store) shardFor(key string) *shard {
	return &s.shards[hashKey(s.seed, key)&s.mask]
}

// liveLocked returns the live record under key, or nil. An expired record
// it finds is removed.
func (s *Store) liveLocked(sh *shard, key string, now time.Time) *item {
	it := sh.items[key]
	if it != nil && !it.live(now) {
		s.removeLocked(sh, it)
		return nil
	}
	return it
}

// insertLocked adds a new item, whose place under the bound the caller has
// reserved.
func (s *Store) insertLocked(sh *shard, it *item) {
	sh.items[it.key] = it
	heap.Push(sh.queueOf(it), it)
	s.users.add(it.rec.UserID, it.key)
}

// unlinkLocked takes it out of its shard and the user index without
// releasing its place under the bound, which the caller takes over.
func (s *Store) unlinkLocked(sh *shard, it *item) {
	heap.Remove(sh.queueOf(it), it.index)
	delete(sh.items, it.key)
	s.users.remove(it.rec.UserID, it.key)
}

// removeLocked deletes it and releases its places under the bounds.
func (s *Store) removeLocked(sh *shard, it *item) {
	s.unlinkLocked(sh, it)
	s.count.Add(-1)
	if it.anon {
		s.anonCount.Add(-1)
	}
}

// reapLocked removes up to limit expired records from the head of the
// shard's queue, or all of them if limit is negative, and reports how many
// it removed.
func (s *Store) reapLocked(sh *shard, now time.Time, limit int) int {
	n := 0
	for _, q := range [...]*queue{&sh.anon, &sh.queue} {
		for n != limit {
			it := q.next()
			if it == nil || it.live(now) {
				break
			}
			s.removeLocked(sh, it)
			n++
		}
	}
	return n
}
