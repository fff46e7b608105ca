package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/keycard-go/keycard/store"
)

// userSessions are the sessions seedUsers creates.
type userSessions struct {
	a    []store.Entry // three sessions of user "A"
	b    store.Entry   // one session of user "B"
	anon store.Entry   // one anonymous session
}

// seedUsers creates three sessions of user "A", one of user "B" and one
// anonymous session, each with distinct data.
func (f *fixture) seedUsers() userSessions {
	f.t.Helper()
	var s userSessions
	for i := range 3 {
		s.a = append(s.a, f.createFor("A", fmt.Sprintf("A's session %d", i)))
	}
	s.b = f.createFor("B", "B's session")
	s.anon = f.createFor("", "anonymous session")
	return s
}

// createFor creates a session of user with the given data.
func (f *fixture) createFor(user, data string) store.Entry {
	f.t.Helper()
	rec := f.record()
	rec.UserID, rec.Data = user, []byte(data)
	return f.createEntry(rec)
}

// wantListed checks that ListUser(user) returns exactly the entries want,
// in any order, with their records.
func (f *fixture) wantListed(user string, want ...store.Entry) {
	f.t.Helper()
	got, err := f.users().ListUser(f.ctx, user)
	if err != nil {
		f.t.Fatalf("ListUser(%q): got error %v, want nil", user, err)
	}
	listed := make(map[string]*store.Record, len(got))
	for _, e := range got {
		if _, dup := listed[e.Key]; dup {
			f.t.Errorf("ListUser(%q): got key %.8s… twice, want it once", user, e.Key)
		}
		listed[e.Key] = e.Record
	}
	for _, w := range want {
		rec, ok := listed[w.Key]
		if !ok {
			f.t.Errorf("ListUser(%q): got no key %.8s…, want it listed", user, w.Key)
			continue
		}
		checkRecord(f.t, fmt.Sprintf("ListUser(%q), key %.8s…", user, w.Key), rec, w.Record)
		delete(listed, w.Key)
	}
	for key := range listed {
		f.t.Errorf("ListUser(%q): got key %.8s…, want it not listed", user, key)
	}
}

func testListUser(f *fixture) {
	s := f.seedUsers()
	f.wantListed("A", s.a...)
	f.wantListed("B", s.b)
}

func testListUnknownUser(f *fixture) {
	f.wantListed("nobody")
	f.seedUsers()
	f.wantListed("nobody")
}

func testListMovesUser(f *fixture) {
	s := f.seedUsers()
	rec := s.a[0].Record.Clone()
	rec.UserID = "B"
	moved := store.Entry{Key: s.a[0].Key, Record: f.update(s.a[0].Key, rec)}
	f.wantListed("A", s.a[1:]...)
	f.wantListed("B", s.b, moved)
}

func testListAnonymous(f *fixture) {
	s := f.seedUsers()
	rec := s.a[0].Record.Clone()
	rec.UserID = ""
	f.update(s.a[0].Key, rec)
	f.wantListed("A", s.a[1:]...)
}

func testListAfterDelete(f *fixture) {
	s := f.seedUsers()
	if err := f.s.Delete(f.ctx, s.a[1].Key); err != nil {
		f.t.Fatalf("Delete: got error %v, want nil", err)
	}
	f.wantListed("A", s.a[0], s.a[2])
	f.wantListed("B", s.b)
}

func testListSkipsExpired(f *fixture) {
	s := f.seedUsers()
	rec := f.record()
	rec.UserID, rec.Expires = "A", f.now().Add(time.Minute)
	short := f.createEntry(rec)
	f.wantListed("A", append(s.a, short)...)

	f.clock.Advance(2 * time.Minute)
	f.wantListed("A", s.a...)
}

func testDeleteUser(f *fixture) {
	s := f.seedUsers()
	n, err := f.users().DeleteUser(f.ctx, "A")
	if err != nil || n != len(s.a) {
		f.t.Fatalf("DeleteUser(%q): got %d, %v, want %d, nil", "A", n, err, len(s.a))
	}
	f.wantListed("A")
	for _, e := range s.a {
		f.wantAbsent("A's session after DeleteUser", e.Key)
	}
	f.wantListed("B", s.b)
	f.wantStored("B's session after DeleteUser", s.b.Key, s.b.Record)
	f.wantStored("anonymous session after DeleteUser", s.anon.Key, s.anon.Record)

	for _, user := range []string{"A", "nobody"} {
		if n, err := f.users().DeleteUser(f.ctx, user); err != nil || n != 0 {
			f.t.Errorf("DeleteUser(%q) with no sessions: got %d, %v, want 0, nil", user, n, err)
		}
	}
}

func testListConcurrent(f *fixture) {
	const workers, keysEach, ops = 8, 3, 40
	var all []string
	var wg sync.WaitGroup
	for w := range workers {
		keys := newKeys(keysEach)
		all = append(all, keys...)
		rng := rand.New(rand.NewPCG(uint64(w), 0x5e55))
		wg.Go(func() { f.churn(keys, rng, ops) })
	}
	wg.Wait()

	want := make(map[string][]store.Entry)
	for _, key := range all {
		rec, err := f.s.Load(f.ctx, key)
		if err == nil {
			want[rec.UserID] = append(want[rec.UserID], store.Entry{Key: key, Record: rec})
		}
	}
	f.wantListed("A", want["A"]...)
	f.wantListed("B", want["B"]...)
}

// churn makes ops random saves and deletes of keys, which no other goroutine
// writes, moving them between users "A", "B" and anonymous.
func (f *fixture) churn(keys []string, rng *rand.Rand, ops int) {
	users := []string{"A", "B", ""}
	versions := make([]uint64, len(keys))
	for range ops {
		i := rng.IntN(len(keys))
		if versions[i] > 0 && rng.IntN(4) == 0 {
			if err := f.s.Delete(f.ctx, keys[i]); err != nil {
				f.t.Errorf("Delete: got error %v, want nil", err)
				return
			}
			versions[i] = 0
			continue
		}
		rec := f.record()
		rec.UserID, rec.Version = users[rng.IntN(len(users))], versions[i]
		if err := f.s.Save(f.ctx, keys[i], rec); err != nil {
			f.t.Errorf("Save(version %d): got error %v, want nil", rec.Version, err)
			return
		}
		versions[i]++
	}
}
