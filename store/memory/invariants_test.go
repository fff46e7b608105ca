package memory

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/storetest"
)

// checkInvariants reports any inconsistency between s's shards (index,
// slots, free slots, queues, arena), user index and counts. Call it when
// no other goroutine uses s.
func checkInvariants(t *testing.T, s *Store) {
	t.Helper()
	want := make(map[int32]userKey) // user entry → what the slot that holds it says
	total, anon := 0, 0
	for i := range s.shards {
		n, a := checkShard(t, s, i, want)
		total, anon = total+n, anon+a
	}
	if n := s.anonCount.Load(); n != int64(anon) {
		t.Errorf("got anonymous count %d, want %d (the anonymous records held)", n, anon)
	}
	checkUserIndex(t, s, want)
	if n := s.count.Load(); n != int64(total) {
		t.Errorf("got count %d, want %d (the records held)", n, total)
	}
	if int64(total) > s.max {
		t.Errorf("got %d records, want at most %d", total, s.max)
	}
}

// userKey is one pair of the user index.
type userKey struct{ user, key string }

// checkShard reports inconsistencies within shard i of s, adds the user
// entries its slots hold to want, and returns how many records it holds,
// and how many of them are anonymous.
func checkShard(t *testing.T, s *Store, shardIndex int, want map[int32]userKey) (int, int) {
	t.Helper()
	sh := &s.shards[shardIndex]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	used := 0
	blocks := make(map[uint64]int) // ref → length, of every used slot
	for i := range sh.slots {
		sl := &sh.slots[i]
		if !sl.used() {
			if sl.flags != 0 || sl.user != -1 || sl.pos != -1 || sl.ref != noRef || sl.size() != 0 {
				t.Errorf("shard %d: free slot %d: got %+v, want it blank", shardIndex, i, *sl)
			}
			continue
		}
		used++
		if sl.ref != noRef {
			if _, dup := blocks[sl.ref]; dup {
				t.Errorf("shard %d: slot %d shares block %#x with another", shardIndex, i, sl.ref)
			}
			blocks[sl.ref] = sl.size()
		} else if sl.size() != 0 {
			t.Errorf("shard %d: slot %d: got no block for %d bytes", shardIndex, i, sl.size())
		}
		key, user := string(sh.keyOf(int32(i))), string(sh.userOf(int32(i)))
		if fp := s.keyBucket(key); fp != sl.fp || fp&s.mask != uint64(shardIndex) {
			t.Errorf("shard %d: slot %d: key %q has bucket %#x, slot says %#x", shardIndex, i, key, fp, sl.fp)
		}
		if sl.anon() != (user == "") {
			t.Errorf("shard %d: slot %d: user %q, anonymous flag %t", shardIndex, i, user, sl.anon())
		}
		switch {
		case user == "" && sl.user != -1:
			t.Errorf("shard %d: slot %d: anonymous record holds user entry %d", shardIndex, i, sl.user)
		case user != "" && sl.user < 0:
			t.Errorf("shard %d: slot %d: record of %q holds no user entry", shardIndex, i, user)
		case user != "":
			if _, dup := want[sl.user]; dup {
				t.Errorf("shard %d: slot %d: user entry %d held twice", shardIndex, i, sl.user)
			}
			want[sl.user] = userKey{user, key}
		}
	}
	// Free list: every free slot once, nothing else.
	free := 0
	for i := sh.free; i >= 0; i = sh.slots[i].next {
		if free++; free > len(sh.slots) || sh.slots[i].used() {
			t.Errorf("shard %d: free list reaches slot %d, used or seen twice", shardIndex, i)
			break
		}
	}
	if free+used != len(sh.slots) {
		t.Errorf("shard %d: got %d used and %d free slots, want %d in all", shardIndex, used, free, len(sh.slots))
	}
	// Index: every used slot in the chain of its bucket, once; no key twice.
	reached, keys := 0, make(map[string]bool)
	for fp, head := range sh.index {
		for i := head; i >= 0; i = sh.slots[i].next {
			sl := &sh.slots[i]
			key := string(sh.keyOf(i))
			if reached++; reached > used || !sl.used() || sl.fp != fp || keys[key] {
				t.Errorf("shard %d: bucket %#x reaches slot %d (used %t, bucket %#x, key %q seen %t)", shardIndex, fp, i, sl.used(), sl.fp, key, keys[key])
				break
			}
			keys[key] = true
		}
	}
	if reached != used {
		t.Errorf("shard %d: index reaches %d slots, want the %d used", shardIndex, reached, used)
	}
	// Queues: every used slot once, in the right one, at its position, in
	// heap order.
	if n := len(sh.queue) + len(sh.anon); n != used {
		t.Errorf("shard %d: got %d used slots and %d+%d queued, want as many", shardIndex, used, len(sh.queue), len(sh.anon))
	}
	for qi, q := range []slotHeap{sh.queue, sh.anon} {
		for k, i := range q {
			sl := &sh.slots[i]
			if !sl.used() || int(sl.pos) != k || sl.anon() != (qi == 1) {
				t.Errorf("shard %d: queue %d [%d]: slot %d, used %t, pos %d, anonymous %t", shardIndex, qi, k, i, sl.used(), sl.pos, sl.anon())
			}
			if p := (k - 1) / 2; k > 0 && sh.slots[q[p]].due() > sl.due() {
				t.Errorf("shard %d: queue %d [%d] is due before its parent [%d]", shardIndex, qi, k, p)
			}
		}
	}
	checkArena(t, fmt.Sprintf("shard %d", shardIndex), &sh.bytes, blocks)
	return used, len(sh.anon)
}

// checkUserIndex reports inconsistencies within the user index of s, and
// any difference between its entries and want, the entries the slots hold.
func checkUserIndex(t *testing.T, s *Store, want map[int32]userKey) {
	t.Helper()
	x := &s.users
	x.mu.Lock()
	defer x.mu.Unlock()
	got := make(map[int32]userKey)
	blocks := make(map[uint64]int)
	for fp, head := range x.heads {
		prev := int32(-1)
		for i := head; i >= 0; prev, i = i, x.entries[i].next {
			e := &x.entries[i]
			b := x.bytes.block(e.ref, e.size())
			uk := userKey{string(b[:e.userLen]), string(b[e.userLen:])}
			if _, dup := got[i]; dup || e.prev != prev || e.fp != fp || s.userBucket(uk.user) != fp || uk.user == "" {
				t.Errorf("user index: bucket %#x reaches entry %d %+v (%q), seen %t, want prev %d", fp, i, *e, uk, dup, prev)
				break
			}
			got[i] = uk
			if e.ref != noRef {
				blocks[e.ref] = e.size()
			}
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("user index: got entries %v, want %v", got, want)
	}
	free := 0
	for i := x.free; i >= 0; i = x.entries[i].next {
		if free++; free > len(x.entries) || x.entries[i].prev != freeEntry {
			t.Errorf("user index: free list reaches entry %d, used or seen twice", i)
			break
		}
	}
	if free+len(got) != len(x.entries) || x.n != len(got) {
		t.Errorf("user index: got %d entries, %d free, %d counted, want %d in all", len(got), free, x.n, len(x.entries))
	}
	checkArena(t, "user index", &x.bytes, blocks)
}

// checkArena reports blocks of a that overlap, lie outside its pages, or
// are lost: every byte of its pages up to the unused tail of the last one
// must be in exactly one block, used (in blocks, ref → length) or free.
func checkArena(t *testing.T, what string, a *arena, blocks map[uint64]int) {
	t.Helper()
	type span struct{ off, end int }
	spans := make([][]span, len(a.pages))
	live, large := 0, 0
	add := func(ref uint64, size int, kind string) {
		page, off := int(ref>>32), int(uint32(ref))
		if page >= len(a.pages) || off+size > len(a.pages[page]) || off%16 != 0 {
			t.Errorf("%s: %s block %#x of %d bytes lies outside the pages", what, kind, ref, size)
			return
		}
		spans[page] = append(spans[page], span{off, off + size})
	}
	for ref, n := range blocks {
		if ref&largeRef != 0 {
			i := ref &^ largeRef
			if i >= uint64(len(a.large)) || len(a.large[i]) != n || n <= maxBlock {
				t.Errorf("%s: large block %d of %d bytes is missing or of another size", what, i, n)
				continue
			}
			live, large = live+n, large+1
			continue
		}
		if n > maxBlock {
			t.Errorf("%s: block %#x of %d bytes, want a large one", what, ref, n)
		}
		live += blockSize(n)
		add(ref, blockSize(n), "used")
	}
	for c := range numClasses {
		n := 0
		for head := a.free[c]; head != 0; head = binary.LittleEndian.Uint64(a.block(head-1, 8)) {
			if n++; n > a.total/16 {
				t.Errorf("%s: free list of class %d loops", what, c)
				break
			}
			add(head-1, classSize(c), "free")
		}
	}
	total := 0
	for p, page := range a.pages {
		total += len(page)
		end := len(page)
		if p == len(a.pages)-1 {
			end = a.used
		}
		slices.SortFunc(spans[p], func(x, y span) int { return x.off - y.off })
		at := 0
		for _, sp := range spans[p] {
			if sp.off != at {
				t.Errorf("%s: page %d: block at %d, want one at %d (overlap or lost bytes)", what, p, sp.off, at)
			}
			at = sp.end
		}
		if at != end {
			t.Errorf("%s: page %d: blocks end at %d, want %d", what, p, at, end)
		}
	}
	nonNil := 0
	for _, b := range a.large {
		if b != nil {
			nonNil++
			total += len(b)
		}
	}
	if nonNil != large || nonNil+len(a.largeFree) != len(a.large) {
		t.Errorf("%s: got %d large blocks held, %d used, %d free, of %d", what, nonNil, large, len(a.largeFree), len(a.large))
	}
	if a.live != live || a.total != total {
		t.Errorf("%s: got live %d, total %d, want %d, %d", what, a.live, a.total, live, total)
	}
}

func TestEvictionKeepsUserIndexConsistent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Now())
	s := New(Config{MaxSessions: 3, MaxAnonymous: 3, Now: clock.Now})
	now := clock.Now()
	for i, user := range []string{"A", "A", "A", "B"} {
		rec := &store.Record{UserID: user, Expires: now.Add(time.Duration(i+1) * time.Hour), Deadline: now.Add(24 * time.Hour)}
		if err := s.Save(ctx, fmt.Sprintf("key-%d", i), rec); err != nil {
			t.Fatalf("Save: got error %v, want nil", err)
		}
	}
	list, err := s.ListUser(ctx, "A")
	if err != nil || len(list) != 2 {
		t.Errorf("ListUser(A): got %d sessions, %v, want 2, nil", len(list), err)
	}
	checkInvariants(t, s)
}

func TestConcurrentChurnKeepsInvariants(t *testing.T) {
	t.Parallel()
	const workers, ops, max = 8, 1000, 64
	clock := storetest.NewClock(time.Now())
	s := New(Config{MaxSessions: max, Shards: 4, Now: clock.Now, Logger: discard})
	stop := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Go(func() { watchCount(t, s, stop) })
	var wg sync.WaitGroup
	for w := range workers {
		rng := rand.New(rand.NewPCG(uint64(w), 7))
		wg.Go(func() { churn(t, s, clock, rng, ops) })
	}
	wg.Wait()
	close(stop)
	watcher.Wait()
	checkInvariants(t, s)
	if s.Evictions() == 0 {
		t.Error("got no evictions, want the churn to fill the store")
	}
	t.Logf("evictions: %d", s.Evictions())
}

// watchCount reports the count of s exceeding its bound, until stop closes.
func watchCount(t *testing.T, s *Store, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if n := s.count.Load(); n > s.max {
			t.Errorf("got count %d, want at most %d", n, s.max)
			return
		}
	}
}

// churn makes ops random calls of every method of s on a small set of keys
// shared with other goroutines, advancing the clock now and then. Conflicts
// and absent records are expected; any other error is reported.
func churn(t *testing.T, s *Store, clock *storetest.Clock, rng *rand.Rand, ops int) {
	ctx := t.Context()
	users := []string{"", "A", "B", "C"}
	user := func() string { return users[rng.IntN(len(users))] }
	for range ops {
		key := fmt.Sprintf("key-%d", rng.IntN(200))
		now := clock.Now()
		var err error
		switch rng.IntN(20) {
		case 0:
			err = s.Delete(ctx, key)
		case 1:
			err = s.Touch(ctx, key, now, now.Add(time.Duration(rng.IntN(600))*time.Second))
		case 2:
			_, err = s.DeleteUser(ctx, user())
		case 3:
			_, err = s.Sweep(ctx)
		case 4:
			clock.Advance(time.Duration(rng.IntN(5)) * time.Second)
		case 5:
			_, err = s.ListUser(ctx, user())
		default:
			err = saveRandom(ctx, s, key, user(), now, rng)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrFull) {
			t.Errorf("got error %v, want nil, %v, %v or %v", err, store.ErrNotFound, store.ErrConflict, store.ErrFull)
		}
	}
}

// saveRandom saves a record of user under key with a random lifetime,
// creating it or updating the version it loads.
func saveRandom(ctx context.Context, s *Store, key, user string, now time.Time, rng *rand.Rand) error {
	rec := &store.Record{
		UserID:   user,
		Expires:  now.Add(time.Duration(rng.IntN(600)) * time.Second),
		Deadline: now.Add(time.Duration(rng.IntN(1200)) * time.Second),
	}
	if cur, err := s.Load(ctx, key); err == nil {
		rec.Version = cur.Version
	}
	return s.Save(ctx, key, rec)
}

func TestUserWithManySessionsKeepsIndexConsistent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := New(Config{})
	expires := time.Now().Add(time.Hour)
	const sessions = 24
	for i := range sessions {
		rec := &store.Record{UserID: "A", Expires: expires, Deadline: expires}
		if err := s.Save(ctx, fmt.Sprint(i), rec); err != nil {
			t.Fatalf("Save: got error %v, want nil", err)
		}
	}
	for i := range sessions - 2 {
		if err := s.Delete(ctx, fmt.Sprint(i)); err != nil {
			t.Fatalf("Delete: got error %v, want nil", err)
		}
	}
	checkInvariants(t, s)
	if list, err := s.ListUser(ctx, "A"); err != nil || len(list) != 2 {
		t.Errorf("ListUser: got %d sessions, %v, want 2, nil", len(list), err)
	}
	if n, err := s.DeleteUser(ctx, "A"); err != nil || n != 2 {
		t.Errorf("DeleteUser: got %d, %v, want 2, nil", n, err)
	}
	checkInvariants(t, s)
}
