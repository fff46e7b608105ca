package memory

import (
	"math"
	"sync"
	"time"
	"unsafe"

	"github.com/keycard-go/keycard/store"
)

// shard is one independently locked part of a Store: the records whose key
// falls in it, and two queues of the same records, soonest-expiring first:
// the signed-in ones and the anonymous ones.
//
// Nothing a shard holds per record is memory the garbage collector scans:
// a record is a slot, a pointer-free struct in one slice; its key, strings
// and data are a block of the shard's arena; the index maps a key's bucket
// to a slot number and the queues hold slot numbers. However many records
// the store holds, a collection marks a few dozen pointers per shard, so
// that stored sessions do not slow the requests that make garbage.
type shard struct {
	mu    sync.RWMutex     // read-locked by Load alone, so a hot session's reads do not queue
	index map[uint64]int32 // a key's bucket → the first slot of the chain of keys in that bucket
	slots []slot
	free  int32 // the first free slot, chained through next, or -1
	bytes arena // the slots' blocks
	queue slotHeap
	anon  slotHeap

	_ [64]byte // keeps neighbouring shards' locks on separate cache lines
}

// slot is one record held by a shard, or a free place for one. Its block
// in the shard's arena holds, one after the other, the key, UserID, IP,
// UserAgent and Data.
type slot struct {
	created, lastSeen, authTime, expires, deadline int64 // see encodeTime
	version                                        uint64
	fp                                             uint64 // the key's bucket
	ref                                            uint64 // the block

	keyLen, userLen, ipLen, uaLen, dataLen uint32

	next  int32 // the next slot of the same bucket, or of the free list; -1: none
	pos   int32 // position in its queue
	user  int32 // the entry of the user index, or -1
	flags uint8
}

const (
	slotUsed uint8 = 1 << iota
	slotAnon       // in the anonymous queue
	slotPersistent
)

// maxLen bounds the bytes of one record's key, strings and data.
const maxLen = math.MaxUint32

func (sl *slot) used() bool { return sl.flags&slotUsed != 0 }
func (sl *slot) anon() bool { return sl.flags&slotAnon != 0 }

// size returns the length of the slot's block.
func (sl *slot) size() int {
	return int(sl.keyLen) + int(sl.userLen) + int(sl.ipLen) + int(sl.uaLen) + int(sl.dataLen)
}

// due returns when the record expires: the earlier of Expires and
// Deadline.
func (sl *slot) due() int64 {
	return min(sl.expires, sl.deadline)
}

// live reports whether the record has not expired at now.
func (sl *slot) live(now int64) bool {
	return now < sl.due()
}

// Times are kept as Unix nanoseconds, which span the years 1678 to 2262;
// the zero time is zeroTime, and a time outside that span the nearest end
// of it.
const zeroTime = math.MinInt64

var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// encodeTime returns t as a slot keeps it.
func encodeTime(t time.Time) int64 {
	switch {
	case t.IsZero():
		return zeroTime
	case t.Before(minTime):
		return math.MinInt64 + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// decodeTime returns the time a slot keeps as n, in UTC.
func decodeTime(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// reset empties the shard. It leaves the lock as it is.
func (sh *shard) reset() {
	sh.index, sh.slots, sh.free = make(map[uint64]int32), nil, -1
	sh.bytes, sh.queue, sh.anon = arena{}, nil, nil
}

// block returns the block of slot i.
func (sh *shard) block(i int32) []byte {
	sl := &sh.slots[i]
	return sh.bytes.block(sl.ref, sl.size())
}

// keyOf returns the key of slot i, in its block.
func (sh *shard) keyOf(i int32) []byte {
	return sh.block(i)[:sh.slots[i].keyLen]
}

// userOf returns the UserID of slot i, in its block.
func (sh *shard) userOf(i int32) []byte {
	sl := &sh.slots[i]
	return sh.block(i)[sl.keyLen : sl.keyLen+sl.userLen]
}

// find returns the slot that holds key, whose bucket is fp, or -1.
func (sh *shard) find(fp uint64, key string) int32 {
	i, ok := sh.index[fp]
	if !ok {
		return -1
	}
	for ; i >= 0; i = sh.slots[i].next {
		if sh.slots[i].fp == fp && string(sh.keyOf(i)) == key {
			return i
		}
	}
	return -1
}

// copyTo sets *rec to a copy of the record of slot i. It makes one
// allocation: Data and the bytes of UserID, IP and UserAgent share it.
//
// The strings are made with unsafe.String over the head of the buffer
// whose tail is Data. That is sound because nothing can write to the head
// once copyTo returns: the only slice of the buffer that escapes is Data,
// which starts after the strings' bytes, and no slice of it reaches back.
// Sharing the allocation makes a load cost as many as when the store kept
// its records as Go values and shared their strings with the caller; the
// price is that a string a caller keeps keeps the buffer, Data included,
// alive.
func (sh *shard) copyTo(i int32, rec *store.Record) {
	sl := &sh.slots[i]
	b := sh.block(i)[sl.keyLen:]
	u, ip, ua := int(sl.userLen), int(sl.ipLen), int(sl.uaLen)
	n := u + ip + ua
	var strs string
	var data []byte
	switch {
	case sl.dataLen == 0:
		strs = string(b[:n]) // Data stays nil, as Load has always returned it
	case n == 0:
		data = make([]byte, sl.dataLen)
		copy(data, b)
	default:
		buf := make([]byte, len(b))
		copy(buf, b) // the strings, then Data: the block's own layout
		strs, data = unsafe.String(&buf[0], n), buf[n:]
	}
	*rec = store.Record{
		Version:    sl.version,
		UserID:     strs[:u],
		Created:    decodeTime(sl.created),
		LastSeen:   decodeTime(sl.lastSeen),
		AuthTime:   decodeTime(sl.authTime),
		Expires:    decodeTime(sl.expires),
		Deadline:   decodeTime(sl.deadline),
		Persistent: sl.flags&slotPersistent != 0,
		IP:         strs[u : u+ip],
		UserAgent:  strs[u+ip:],
		Data:       data,
	}
}

// recordLen returns the length of the block of rec under key.
func recordLen(key string, rec *store.Record) uint64 {
	return uint64(len(key)) + uint64(len(rec.UserID)) + uint64(len(rec.IP)) + uint64(len(rec.UserAgent)) + uint64(len(rec.Data))
}

// set makes slot i hold rec, under its key, with the given version. Its
// block is reused when its size class suits the new length; the key, which
// a slot keeps for life, moves with it otherwise. It does not move the
// slot between queues or in the user index.
func (sh *shard) set(i int32, rec *store.Record, version uint64) {
	sl := &sh.slots[i]
	keyLen := int(sl.keyLen)
	n := keyLen + len(rec.UserID) + len(rec.IP) + len(rec.UserAgent) + len(rec.Data)
	sl.ref = sh.bytes.resize(sl.ref, sl.size(), n, keyLen)
	sl.userLen, sl.ipLen = uint32(len(rec.UserID)), uint32(len(rec.IP))
	sl.uaLen, sl.dataLen = uint32(len(rec.UserAgent)), uint32(len(rec.Data))
	b := sh.bytes.block(sl.ref, n)[keyLen:]
	b = b[copy(b, rec.UserID):]
	b = b[copy(b, rec.IP):]
	b = b[copy(b, rec.UserAgent):]
	copy(b, rec.Data)
	sl.version = version
	sl.created, sl.lastSeen = encodeTime(rec.Created), encodeTime(rec.LastSeen)
	sl.authTime = encodeTime(rec.AuthTime)
	sl.expires, sl.deadline = encodeTime(rec.Expires), encodeTime(rec.Deadline)
	sl.flags &^= slotPersistent
	if rec.Persistent {
		sl.flags |= slotPersistent
	}
}

// newSlot returns a free slot holding key, whose bucket is fp, linked into
// the index but in no queue, with no record yet.
func (sh *shard) newSlot(fp uint64, key string) int32 {
	i := sh.free
	if i >= 0 {
		sh.free = sh.slots[i].next
	} else {
		sh.slots = append(sh.slots, slot{})
		i = int32(len(sh.slots) - 1)
	}
	next, ok := sh.index[fp]
	if !ok {
		next = -1
	}
	sh.slots[i] = slot{fp: fp, ref: sh.bytes.alloc(len(key)), keyLen: uint32(len(key)), next: next, pos: -1, user: -1, flags: slotUsed}
	copy(sh.bytes.block(sh.slots[i].ref, len(key)), key)
	sh.index[fp] = i
	return i
}

// freeSlot unlinks slot i from the index, releases its block and puts it
// on the free list. The slot must be in no queue.
func (sh *shard) freeSlot(i int32) {
	sl := &sh.slots[i]
	head := sh.index[sl.fp]
	if head == i {
		if sl.next >= 0 {
			sh.index[sl.fp] = sl.next
		} else {
			delete(sh.index, sl.fp)
		}
	} else {
		p := head
		for sh.slots[p].next != i {
			p = sh.slots[p].next
		}
		sh.slots[p].next = sl.next
	}
	sh.bytes.release(sl.ref, sl.size())
	*sl = slot{next: sh.free, pos: -1, user: -1, ref: noRef}
	sh.free = i
}

// queueOf returns the queue that holds slot i.
func (sh *shard) queueOf(i int32) *slotHeap {
	if sh.slots[i].anon() {
		return &sh.anon
	}
	return &sh.queue
}

// len returns how many records the shard holds.
func (sh *shard) len() int {
	return len(sh.queue) + len(sh.anon)
}

// tidy copies the shard's records into new memory when freed slots or
// freed blocks make up most of what it holds, so that the memory of a
// burst of sessions that ended returns to the runtime. It renumbers the
// slots, so it runs only at the end of a method, never while a caller
// holds a slot number.
func (sh *shard) tidy() {
	n := sh.len()
	if !sh.bytes.wasteful() && (len(sh.slots) < 256 || n >= len(sh.slots)/4) {
		return
	}
	oldSlots, oldBytes := sh.slots, sh.bytes
	sh.index, sh.slots, sh.bytes, sh.free = make(map[uint64]int32, n), make([]slot, 0, n), arena{}, -1
	renumber := make([]int32, len(oldSlots))
	for i := range oldSlots {
		sl := oldSlots[i]
		if !sl.used() {
			continue
		}
		size := sl.size()
		ref := sh.bytes.alloc(size)
		copy(sh.bytes.block(ref, size), oldBytes.block(sl.ref, size))
		sl.ref = ref
		if next, ok := sh.index[sl.fp]; ok {
			sl.next = next
		} else {
			sl.next = -1
		}
		sh.index[sl.fp] = int32(len(sh.slots))
		renumber[i] = int32(len(sh.slots))
		sh.slots = append(sh.slots, sl)
	}
	// The queues too get new arrays, sized to what they hold: after a
	// burst, the old ones are as long as the burst was.
	for _, q := range [...]*slotHeap{&sh.queue, &sh.anon} {
		fresh := make(slotHeap, len(*q))
		for k, i := range *q {
			fresh[k] = renumber[i]
		}
		*q = fresh
	}
}

// slotHeap is a min-heap of slot numbers ordered by their due time; each
// slot keeps its position in pos.
type slotHeap []int32

func (sh *shard) less(q slotHeap, a, b int) bool {
	return sh.slots[q[a]].due() < sh.slots[q[b]].due()
}

func (sh *shard) swap(q slotHeap, a, b int) {
	q[a], q[b] = q[b], q[a]
	sh.slots[q[a]].pos = int32(a)
	sh.slots[q[b]].pos = int32(b)
}

func (sh *shard) up(q slotHeap, j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !sh.less(q, j, p) {
			break
		}
		sh.swap(q, j, p)
		j = p
	}
}

func (sh *shard) down(q slotHeap, i int) bool {
	start := i
	for {
		l := 2*i + 1
		if l >= len(q) {
			break
		}
		j := l
		if r := l + 1; r < len(q) && sh.less(q, r, l) {
			j = r
		}
		if !sh.less(q, j, i) {
			break
		}
		sh.swap(q, i, j)
		i = j
	}
	return i > start
}

// push adds slot i to its queue.
func (sh *shard) push(i int32) {
	q := sh.queueOf(i)
	sh.slots[i].pos = int32(len(*q))
	*q = append(*q, i)
	sh.up(*q, len(*q)-1)
}

// pull takes slot i out of its queue.
func (sh *shard) pull(i int32) {
	q := sh.queueOf(i)
	at, last := int(sh.slots[i].pos), len(*q)-1
	if at != last {
		sh.swap(*q, at, last)
	}
	*q = (*q)[:last]
	if at != last {
		sh.fix(*q, at)
	}
	sh.slots[i].pos = -1
}

// fix restores the order of q after the due time at position at changed.
func (sh *shard) fix(q slotHeap, at int) {
	if !sh.down(q, at) {
		sh.up(q, at)
	}
}

// next returns the slot of q that expires soonest, or -1.
func (q slotHeap) next() int32 {
	if len(q) == 0 {
		return -1
	}
	return q[0]
}

// The methods below change a shard's records. They must be called with
// sh.mu held, and keep the user index and the store's count in step.

// shardFor returns the shard that holds key.
func (s *Store) shardFor(key string) *shard {
	return &s.shards[s.keyBucket(key)&s.mask]
}

// liveLocked returns the slot of the live record under key, whose bucket
// is fp, or -1. An expired record it finds is removed.
func (s *Store) liveLocked(sh *shard, fp uint64, key string, now int64) int32 {
	i := sh.find(fp, key)
	if i >= 0 && !sh.slots[i].live(now) {
		s.removeLocked(sh, i)
		return -1
	}
	return i
}

// insertLocked adds rec under key, whose bucket is fp, as a new record
// with the given version, whose place under the bound the caller has
// reserved.
func (s *Store) insertLocked(sh *shard, fp uint64, key string, rec *store.Record, version uint64) {
	i := sh.newSlot(fp, key)
	sh.set(i, rec, version)
	if rec.UserID == "" {
		sh.slots[i].flags |= slotAnon
	} else {
		sh.slots[i].user = s.users.add(s.userBucket(rec.UserID), rec.UserID, key)
	}
	sh.push(i)
}

// removeLocked deletes the record of slot i and releases its places under
// the bounds.
func (s *Store) removeLocked(sh *shard, i int32) {
	sl := &sh.slots[i]
	s.count.Add(-1)
	if sl.anon() {
		s.anonCount.Add(-1)
	}
	if sl.user >= 0 {
		s.users.remove(sl.user)
	}
	sh.pull(i)
	sh.freeSlot(i)
}

// reapLocked removes up to limit expired records from the head of the
// shard's queue, or all of them if limit is negative, and reports how many
// it removed.
func (s *Store) reapLocked(sh *shard, now int64, limit int) int {
	n := 0
	for _, q := range [...]*slotHeap{&sh.anon, &sh.queue} {
		for n != limit {
			i := q.next()
			if i < 0 || sh.slots[i].live(now) {
				break
			}
			s.removeLocked(sh, i)
			n++
		}
	}
	return n
}
