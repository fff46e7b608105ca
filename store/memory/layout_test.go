package memory

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/storetest"
)

func TestSizeClasses(t *testing.T) {
	t.Parallel()
	last := -1
	for n := 1; n <= maxBlock; n++ {
		c := classOf(n)
		size := classSize(c)
		switch {
		case c < 0 || c >= numClasses:
			t.Fatalf("classOf(%d) = %d, want a class in [0, %d)", n, c, numClasses)
		case size < n:
			t.Fatalf("class %d of %d bytes: size %d, too small", c, n, size)
		case c > 0 && classSize(c-1) >= n:
			t.Fatalf("class %d of %d bytes: the class below, of %d bytes, would do", c, n, classSize(c-1))
		case size%16 != 0:
			t.Fatalf("class %d: size %d, want a multiple of 16", c, size)
		case n > 1024 && size-n > n/8:
			t.Fatalf("class %d of %d bytes: %d bytes of slack, want at most an eighth", c, n, size-n)
		case c != last && c != last+1:
			t.Fatalf("classOf(%d) = %d after %d: a class skipped", n, c, last)
		}
		last = c
	}
	if last != numClasses-1 || classSize(last) != maxBlock {
		t.Errorf("the last class: %d of %d bytes, want %d of %d", last, classSize(last), numClasses-1, maxBlock)
	}
}

// collide makes every key of s fall in one bucket, and every user in one
// bucket of the user index: only the bytes tell them apart.
func collide(s *Store) {
	s.keyBucket = func(string) uint64 { return 42 }
	s.userBucket = func(string) uint64 { return 7 }
}

func TestCollidingKeysAndUsersStayApart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := New(Config{Shards: 4, Now: clock.Now, Logger: discard})
	collide(s)
	now := clock.Now()
	users := []string{"", "alice", "bob", "alice2"}
	want := make(map[string]*store.Record)
	for i := range 40 {
		key := fmt.Sprint("key-", i)
		rec := recFor(users[i%len(users)], now, time.Duration(i+1)*time.Minute)
		rec.Data = []byte(key)
		if err := s.Save(ctx, key, rec); err != nil {
			t.Fatal(err)
		}
		rec.Version = 1
		want[key] = rec
	}
	checkInvariants(t, s)
	if sh := s.shardFor("key-0"); len(sh.index) != 1 || sh.len() != 40 {
		t.Fatalf("got %d buckets holding %d records, want the 40 in one chain", len(sh.index), sh.len())
	}
	check := func(what string) {
		t.Helper()
		for i := range 40 {
			key := fmt.Sprint("key-", i)
			got, err := s.Load(ctx, key)
			if w := want[key]; w == nil {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: Load(%s): got %v, want ErrNotFound", what, key, err)
				}
			} else if err != nil || got.UserID != w.UserID || got.Version != w.Version || !bytes.Equal(got.Data, w.Data) {
				t.Errorf("%s: Load(%s): got %+v, %v, want %+v", what, key, got, err, w)
			}
		}
		if _, err := s.Load(ctx, "key-absent"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: Load of an absent key in the chain: got %v, want ErrNotFound", what, err)
		}
		for _, u := range users[1:] {
			var wantKeys, gotKeys []string
			for k, r := range want {
				if r.UserID == u {
					wantKeys = append(wantKeys, k)
				}
			}
			list, err := s.ListUser(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range list {
				gotKeys = append(gotKeys, e.Key)
			}
			slices.Sort(wantKeys)
			slices.Sort(gotKeys)
			if !slices.Equal(gotKeys, wantKeys) {
				t.Errorf("%s: ListUser(%s): got %q, want %q", what, u, gotKeys, wantKeys)
			}
		}
		checkInvariants(t, s)
	}
	check("after the creates")

	// Deletes at the head, in the middle and at the tail of the chain.
	for _, i := range []int{39, 20, 0, 1, 38} {
		key := fmt.Sprint("key-", i)
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		delete(want, key)
	}
	check("after the deletes")

	// A save conflicts with the colliding record's version, not another's.
	rec := recFor("bob", now, time.Hour)
	rec.Version = 7
	if err := s.Save(ctx, "key-5", rec); !errors.Is(err, store.ErrConflict) {
		t.Errorf("save at a wrong version: got %v, want ErrConflict", err)
	}
	// Users change in place: alice's key-5 becomes bob's, bob's key-6
	// becomes anonymous, an anonymous key-4 becomes alice2's.
	for key, user := range map[string]string{"key-5": "bob", "key-6": "", "key-4": "alice2"} {
		rec := want[key].Clone()
		rec.UserID = user
		if err := s.Save(ctx, key, rec); err != nil {
			t.Fatal(err)
		}
		rec.Version++
		want[key] = rec
	}
	check("after the moves")

	if n, err := s.DeleteUser(ctx, "alice"); err != nil || n != 8 {
		t.Errorf("DeleteUser(alice): got %d, %v, want 8, nil", n, err)
	}
	for k, r := range want {
		if r.UserID == "alice" {
			delete(want, k)
		}
	}
	check("after DeleteUser")

	// Expired records leave the chain as they are found.
	clock.Advance(15 * time.Minute)
	for k, r := range want {
		if !r.Live(clock.Now()) {
			delete(want, k)
		}
	}
	check("after some expired")
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	check("after Sweep")
}

func TestBlocksAreReusedAsRecordsGrowAndShrink(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Now())
	s := New(Config{Shards: 1, Now: clock.Now, Logger: discard})
	sh := &s.shards[0]
	now := clock.Now()
	sizes := []int{0, 1, 15, 16, 17, 300, 1000, 1025, 5000, maxBlock - 100, maxBlock + 1, 40_000, 100, 0, 3000, 17}
	const keys = 50
	versions := make([]uint64, keys)
	round := func(r int) {
		for k := range keys {
			size := sizes[(k+r)%len(sizes)]
			rec := recFor(fmt.Sprint("user-", k%7), now, time.Hour)
			rec.Data = bytes.Repeat([]byte{byte(k + r)}, size)
			rec.Version = versions[k]
			key := fmt.Sprint("key-", k)
			if err := s.Save(ctx, key, rec); err != nil {
				t.Fatalf("round %d, key %d: %v", r, k, err)
			}
			versions[k]++
			got, err := s.Load(ctx, key)
			if err != nil || !bytes.Equal(got.Data, rec.Data) || got.UserID != rec.UserID {
				t.Fatalf("round %d, key %d: got %d bytes of data, %v, want %d", r, k, len(got.Data), err, size)
			}
		}
		checkInvariants(t, s)
	}
	round(0)
	for r := 1; r < len(sizes); r++ {
		round(r)
	}
	// Every key has now had every size once: the blocks of a second
	// cycle are all on the free lists or in use.
	pages := len(sh.bytes.pages)
	for r := range len(sizes) {
		round(r)
	}
	if got := len(sh.bytes.pages); got != pages {
		t.Errorf("a second cycle of the same sizes: got %d pages, want the %d of the first", got, pages)
	}

	// Deleted records' blocks go to the next records.
	for k := range keys / 2 {
		if err := s.Delete(ctx, fmt.Sprint("key-", k)); err != nil {
			t.Fatal(err)
		}
	}
	checkInvariants(t, s)
	for k := range keys / 2 {
		rec := recFor("", now, time.Hour)
		rec.Data = make([]byte, sizes[(k+len(sizes)-1)%len(sizes)])
		if err := s.Save(ctx, fmt.Sprint("new-", k), rec); err != nil {
			t.Fatal(err)
		}
	}
	checkInvariants(t, s)
	if got := len(sh.bytes.pages); got != pages {
		t.Errorf("records in the place of deleted ones: got %d pages, want %d", got, pages)
	}
}

func TestMemoryOfDeletedRecordsIsReturned(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Now())
	s := New(Config{Shards: 1, Now: clock.Now, Logger: discard})
	sh := &s.shards[0]
	now := clock.Now()
	const n = 4000
	for i := range n {
		rec := recFor(fmt.Sprint("user-", i%100), now, time.Duration(i+1)*time.Second)
		rec.Data = make([]byte, 500)
		if err := s.Save(ctx, fmt.Sprintf("%064x", i), rec); err != nil {
			t.Fatal(err)
		}
	}
	full, slots, users := sh.bytes.total, len(sh.slots), s.users.bytes.total
	// All but the last 100 expire and are swept.
	clock.Advance((n - 100) * time.Second)
	if got, err := s.Sweep(ctx); err != nil || got != n-100 {
		t.Fatalf("Sweep: got %d, %v, want %d", got, err, n-100)
	}
	checkInvariants(t, s)
	// The arenas keep at most a quarter live, or two pages.
	if sh.bytes.total > full/8 || len(sh.slots) > slots/8 || s.users.bytes.total > max(users/8, 2*maxPage) {
		t.Errorf("after removing 39 in 40 records: got %d bytes, %d slots, %d user index bytes, want at most an eighth of %d, %d, %d",
			sh.bytes.total, len(sh.slots), s.users.bytes.total, full, slots, users)
	}
	for i := n - 100; i < n; i++ {
		if rec, err := s.Load(ctx, fmt.Sprintf("%064x", i)); err != nil || len(rec.Data) != 500 {
			t.Fatalf("key %d after the sweep: %v", i, err)
		}
	}
	if n, err := s.DeleteUser(ctx, "user-99"); err != nil || n != 1 {
		t.Errorf("DeleteUser after the sweep: got %d, %v, want 1", n, err)
	}
	checkInvariants(t, s)
}

func TestTimesRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tt := range []time.Time{
		{},
		time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 1, time.FixedZone("x", 3600)),
		time.Now(), // with a monotonic reading
	} {
		if got := decodeTime(encodeTime(tt)); !got.Equal(tt) || got.IsZero() != tt.IsZero() {
			t.Errorf("decodeTime(encodeTime(%v)) = %v, want it Equal", tt, got)
		}
	}
	// Out of span: clamped to the nearest end, still after every
	// representable time before it.
	if got := encodeTime(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)); got != encodeTime(maxTime) {
		t.Errorf("year 3000: got %d, want the end of the span", got)
	}
	if got := encodeTime(time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)); got == zeroTime || got > encodeTime(minTime) {
		t.Errorf("the year 1 but not zero: got %d, want the start of the span", got)
	}
}
