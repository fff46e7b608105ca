package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/keycard-go/keycard/store"
)

// userIndex maps each user to the keys of their records. Anonymous records
// are not indexed.
//
// Like a shard, it holds nothing per record that the garbage collector
// scans: one entry per indexed record in a pointer-free slice, chained by
// the bucket of its user ID, with the user ID and the key in a block of an
// arena. A record's slot holds the number of its entry, so removing it
// needs no search; a freed entry is reused, and entries are renumbered
// only when most are free, by Store.compactUsers, which holds every
// shard's lock while it renumbers the slots too.
//
// Lock order: a goroutine may lock the index while holding a shard lock,
// never a shard lock while holding the index lock. Every change to a
// record's user happens under its shard lock and updates the index before
// the shard lock is released.
type userIndex struct {
	mu      sync.Mutex
	heads   map[uint64]int32 // a user's bucket → the first entry of its chain
	entries []userEntry
	free    int32 // the first free entry, chained through next, or -1
	n       int   // entries in use
	bytes   arena
}

// userEntry is one indexed record, or a free place for one. Its block holds
// the user ID, then the key.
type userEntry struct {
	fp      uint64 // the user's bucket
	ref     uint64
	userLen uint32
	keyLen  uint32
	prev    int32 // the previous entry of the chain, -1: none, freeEntry: free
	next    int32 // the next entry of the chain, or of the free list; -1: none
}

// freeEntry marks a free entry in prev.
const freeEntry = -2

func (e *userEntry) size() int { return int(e.userLen) + int(e.keyLen) }

// add indexes key under user, whose bucket is fp, and returns the entry.
func (x *userIndex) add(fp uint64, user, key string) int32 {
	x.mu.Lock()
	defer x.mu.Unlock()
	i := x.free
	if i >= 0 {
		x.free = x.entries[i].next
	} else {
		x.entries = append(x.entries, userEntry{})
		i = int32(len(x.entries) - 1)
	}
	next, ok := x.heads[fp]
	if !ok {
		next = -1
	} else {
		x.entries[next].prev = i
	}
	n := len(user) + len(key)
	e := userEntry{fp: fp, ref: x.bytes.alloc(n), userLen: uint32(len(user)), keyLen: uint32(len(key)), prev: -1, next: next}
	b := x.bytes.block(e.ref, n)
	copy(b[copy(b, user):], key)
	x.entries[i] = e
	x.heads[fp] = i
	x.n++
	return i
}

// remove drops entry i.
func (x *userIndex) remove(i int32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := &x.entries[i]
	switch {
	case e.prev >= 0:
		x.entries[e.prev].next = e.next
	case e.next >= 0:
		x.heads[e.fp] = e.next
	default:
		delete(x.heads, e.fp)
	}
	if e.next >= 0 {
		x.entries[e.next].prev = e.prev
	}
	x.bytes.release(e.ref, e.size())
	*e = userEntry{ref: noRef, prev: freeEntry, next: x.free}
	x.free = i
	x.n--
	x.tidy()
}

// tidy starts afresh when the index is empty and holds much, and copies
// the blocks into a new arena when freed ones make up most of it. Entries keep their
// numbers, which slots hold.
func (x *userIndex) tidy() {
	switch {
	case x.n == 0 && (len(x.entries) >= 256 || x.bytes.total >= 2*maxPage):
		x.resetLocked()
	case x.bytes.wasteful():
		x.moveBlocks()
	}
}

// moveBlocks copies the blocks of the entries in use into a new arena.
func (x *userIndex) moveBlocks() {
	old := x.bytes
	x.bytes = arena{}
	for i := range x.entries {
		e := &x.entries[i]
		if e.prev == freeEntry {
			continue
		}
		ref := x.bytes.alloc(e.size())
		copy(x.bytes.block(ref, e.size()), old.block(e.ref, e.size()))
		e.ref = ref
	}
}

// minCompactEntries is the fewest entries worth renumbering.
const minCompactEntries = 1024

// sparse reports whether most of the index's entries are free: the
// entries slice and the heads map keep the size of the largest burst of
// signed-in sessions until compact renumbers them.
func (x *userIndex) sparse() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.sparseLocked()
}

func (x *userIndex) sparseLocked() bool {
	return len(x.entries) >= minCompactEntries && x.n < len(x.entries)/4
}

// compact renumbers the entries in use as 0 to n-1, in new memory, and
// returns the new number of each old one (-1 for a free one), or nil when
// the index is no longer sparse. Slots hold entry numbers: the caller holds
// every shard's lock and renumbers them.
func (x *userIndex) compact() []int32 {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.sparseLocked() {
		return nil
	}
	old := x.entries
	renumber := make([]int32, len(old))
	x.entries, x.free = make([]userEntry, 0, x.n), -1
	for i, e := range old {
		if e.prev == freeEntry {
			renumber[i] = -1
			continue
		}
		renumber[i] = int32(len(x.entries))
		x.entries = append(x.entries, e)
	}
	x.moveBlocks()
	for i := range x.entries {
		e := &x.entries[i]
		if e.prev >= 0 {
			e.prev = renumber[e.prev]
		}
		if e.next >= 0 {
			e.next = renumber[e.next]
		}
	}
	heads := make(map[uint64]int32, len(x.heads))
	for fp, i := range x.heads {
		heads[fp] = renumber[i]
	}
	x.heads = heads
	return renumber
}

// compactUsers returns the memory of the index of users' sessions after a
// burst of signed-in sessions ended: when most of its entries are free, it
// renumbers them (compact) and the slots that hold their numbers. It holds
// every shard's lock, taken in order as SaveBatch and Close take them, and
// then the index's: a short pause of the whole store, once per burst.
func (s *Store) compactUsers() {
	if !s.users.sparse() {
		return
	}
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
	defer func() {
		for i := range s.shards {
			s.shards[i].mu.Unlock()
		}
	}()
	renumber := s.users.compact()
	if renumber == nil {
		return
	}
	for i := range s.shards {
		slots := s.shards[i].slots
		for j := range slots {
			if sl := &slots[j]; sl.used() && sl.user >= 0 {
				sl.user = renumber[sl.user]
			}
		}
	}
}

// list returns a snapshot of user's keys.
func (x *userIndex) list(fp uint64, user string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	i, ok := x.heads[fp]
	if !ok {
		return nil
	}
	var keys []string
	for ; i >= 0; i = x.entries[i].next {
		e := &x.entries[i]
		b := x.bytes.block(e.ref, e.size())
		if e.fp == fp && string(b[:e.userLen]) == user {
			keys = append(keys, string(b[e.userLen:]))
		}
	}
	return keys
}

// reset empties the index.
func (x *userIndex) reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.resetLocked()
}

func (x *userIndex) resetLocked() {
	x.heads, x.entries, x.free, x.n, x.bytes = make(map[uint64]int32), nil, -1, 0, arena{}
}

// ListUser returns copies of the live records of userID with their keys, in
// no particular order. The anonymous user "" has no listed sessions.
func (s *Store) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	if err := s.enter(ctx); err != nil {
		return nil, fmt.Errorf("memory store: list user: %w", err)
	}
	now := s.now()
	var list []store.Entry
	for _, key := range s.userKeys(userID) {
		if rec := s.userRecord(key, userID, now); rec != nil {
			list = append(list, store.Entry{Key: key, Record: rec})
		}
	}
	return list, nil
}

// userKeys returns a snapshot of the keys indexed under userID.
func (s *Store) userKeys(userID string) []string {
	if userID == "" {
		return nil
	}
	return s.users.list(s.userBucket(userID), userID)
}

// userRecord returns a copy of the live record under key if it belongs to
// userID, or nil.
func (s *Store) userRecord(key, userID string, now time.Time) *store.Record {
	fp := s.keyBucket(key)
	sh := &s.shards[fp&s.mask]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	defer sh.tidy()
	i := s.liveLocked(sh, fp, key, encodeTime(now))
	if i < 0 || string(sh.userOf(i)) != userID {
		return nil
	}
	rec := new(store.Record)
	sh.copyTo(i, rec)
	return rec
}

// DeleteUser deletes every record of userID and reports how many live ones
// it deleted; expired records it removes on the way are not counted.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, fmt.Errorf("memory store: delete user: %w", err)
	}
	now := encodeTime(s.now())
	n := 0
	for _, key := range s.userKeys(userID) {
		if s.deleteUserRecord(key, userID, now) {
			n++
		}
	}
	s.compactUsers()
	return n, nil
}

// deleteUserRecord deletes the record under key if it belongs to userID and
// reports whether it was live.
func (s *Store) deleteUserRecord(key, userID string, now int64) bool {
	fp := s.keyBucket(key)
	sh := &s.shards[fp&s.mask]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.find(fp, key)
	if i < 0 || string(sh.userOf(i)) != userID {
		return false
	}
	live := sh.slots[i].live(now)
	s.removeLocked(sh, i)
	sh.tidy()
	return live
}
