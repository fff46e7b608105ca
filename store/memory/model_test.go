package memory

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/storetest"
)

// model is what a store holds, obviously: a map of records, of which those
// not live at now are absent.
type model map[string]*store.Record

func (m model) live(key string, now time.Time) *store.Record {
	if r := m[key]; r != nil && r.Live(now) {
		return r
	}
	return nil
}

// save is Save's compare-and-set, on the model.
func (m model) save(key string, rec *store.Record, now time.Time) error {
	cur := m.live(key, now)
	switch {
	case cur == nil && rec.Version != 0, cur != nil && cur.Version != rec.Version:
		return store.ErrConflict
	case !rec.Live(now):
		delete(m, key)
	default:
		c := rec.Clone()
		c.Version++
		m[key] = c
	}
	return nil
}

// TestStoreMatchesAModel makes random calls of every method on stores
// whose keys and users collide a lot or not at all, each goroutine on its
// own keys and users, and checks every result against a model.
func TestStoreMatchesAModel(t *testing.T) {
	t.Parallel()
	for _, colliding := range []bool{false, true} {
		t.Run(fmt.Sprintf("colliding=%t", colliding), func(t *testing.T) {
			t.Parallel()
			clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			s := New(Config{Shards: 4, Now: clock.Now, Logger: discard})
			if colliding {
				// A few buckets for every key and user: long chains.
				key, user := s.keyBucket, s.userBucket
				s.keyBucket = func(k string) uint64 { return key(k) % 8 }
				s.userBucket = func(u string) uint64 { return user(u) % 2 }
			}
			var clockMu sync.RWMutex // write-locked to advance the clock, read-locked by every other call
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					runModel(t, s, clock, &clockMu, w, rand.New(rand.NewPCG(uint64(w), 99)), 1500)
				})
			}
			wg.Wait()
			checkInvariants(t, s)
		})
	}
}

// runModel makes ops random calls on the keys and users of worker w and
// checks them against its model. The time must not move between a call and
// the check of its result, so every call holds clockMu read-locked, and
// the clock moves only with it write-locked.
func runModel(t *testing.T, s *Store, clock *storetest.Clock, clockMu *sync.RWMutex, w int, rng *rand.Rand, ops int) {
	ctx := t.Context()
	m := make(model)
	key := func() string { return fmt.Sprintf("w%d-key-%d", w, rng.IntN(60)) }
	users := []string{"", fmt.Sprint("w", w, "-alice"), fmt.Sprint("w", w, "-bob"), fmt.Sprint("w", w, "-carol")}
	user := func() string { return users[rng.IntN(len(users))] }
	sizes := []int{0, 1, 16, 100, 700, 1500, 9000, 20_000}
	record := func(now time.Time) *store.Record {
		rec := &store.Record{
			UserID:     user(),
			Created:    now.Add(-time.Duration(rng.IntN(1e9))),
			LastSeen:   now,
			Expires:    now.Add(time.Duration(1+rng.IntN(300)) * time.Second),
			Deadline:   now.Add(time.Duration(1+rng.IntN(600)) * time.Second),
			Persistent: rng.IntN(2) == 0,
			IP:         fmt.Sprint("192.0.2.", rng.IntN(256)),
			UserAgent:  string(bytes.Repeat([]byte("ua"), rng.IntN(80))),
			Data:       make([]byte, sizes[rng.IntN(len(sizes))]),
		}
		if rng.IntN(3) == 0 {
			rec.AuthTime = now.Add(-time.Minute)
		}
		for i := range rec.Data {
			rec.Data[i] = byte(rng.Uint32())
		}
		return rec
	}
	same := func(what string, got, want *store.Record) {
		t.Helper()
		if got.Version != want.Version || got.UserID != want.UserID || got.IP != want.IP || got.UserAgent != want.UserAgent ||
			got.Persistent != want.Persistent || !bytes.Equal(got.Data, want.Data) ||
			!got.Created.Equal(want.Created) || !got.LastSeen.Equal(want.LastSeen) || !got.AuthTime.Equal(want.AuthTime) ||
			!got.Expires.Equal(want.Expires) || !got.Deadline.Equal(want.Deadline) || got.AuthTime.IsZero() != want.AuthTime.IsZero() {
			t.Errorf("worker %d: %s: got %+v, want %+v", w, what, got, want)
		}
	}
	for op := range ops {
		if rng.IntN(20) == 0 {
			clockMu.Lock()
			clock.Advance(time.Duration(rng.IntN(30)) * time.Second)
			clockMu.Unlock()
		}
		clockMu.RLock()
		now := clock.Now()
		k := key()
		switch r := rng.IntN(100); {
		case r < 30:
			got, err := s.Load(ctx, k)
			if want := m.live(k, now); want == nil {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("worker %d op %d: Load(%s): got %v, want ErrNotFound", w, op, k, err)
				}
			} else if err != nil {
				t.Errorf("worker %d op %d: Load(%s): got %v, want the record", w, op, k, err)
			} else {
				same("Load "+k, got, want)
			}
		case r < 60:
			rec := record(now)
			switch v := rng.IntN(10); {
			case v < 6:
				if cur := m.live(k, now); cur != nil {
					rec.Version = cur.Version
				}
			case v < 8:
				rec.Version = uint64(rng.IntN(3))
			default:
				rec.Expires = now.Add(-time.Second) // saved already expired
			}
			want := m.save(k, rec, now)
			if err := s.Save(ctx, k, rec); !errors.Is(err, want) && (err != nil || want != nil) {
				t.Errorf("worker %d op %d: Save(%s, version %d): got %v, want %v", w, op, k, rec.Version, err, want)
			}
		case r < 68:
			if err := s.Delete(ctx, k); err != nil {
				t.Errorf("worker %d: Delete: %v", w, err)
			}
			delete(m, k)
		case r < 76:
			expires := now.Add(time.Duration(rng.IntN(400)-20) * time.Second)
			err := s.Touch(ctx, k, now, expires)
			if cur := m.live(k, now); cur == nil {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("worker %d op %d: Touch of an absent record: got %v", w, op, err)
				}
			} else {
				if err != nil {
					t.Errorf("worker %d op %d: Touch: got %v", w, op, err)
				}
				cur.LastSeen, cur.Expires = now, expires
			}
		case r < 84:
			u := user()
			list, err := s.ListUser(ctx, u)
			var got, want []string
			for _, e := range list {
				got = append(got, e.Key)
				if cur := m.live(e.Key, now); cur != nil {
					same("ListUser "+e.Key, e.Record, cur)
				}
			}
			for key, rec := range m {
				if u != "" && rec.UserID == u && rec.Live(now) {
					want = append(want, key)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("worker %d op %d: ListUser(%q): got %q, %v, want %q", w, op, u, got, err, want)
			}
		case r < 88:
			u := user()
			n, err := s.DeleteUser(ctx, u)
			want := 0
			for key, rec := range m {
				if u != "" && rec.UserID == u {
					if rec.Live(now) {
						want++
					}
					delete(m, key)
				}
			}
			if err != nil || n != want {
				t.Errorf("worker %d op %d: DeleteUser(%q): got %d, %v, want %d", w, op, u, n, err, want)
			}
		case r < 93:
			// A batch of two of the worker's keys.
			k2 := key()
			if k2 == k {
				break
			}
			entries := []store.Entry{{Key: k, Record: record(now)}, {Key: k2, Record: record(now)}}
			for _, e := range entries {
				if cur := m.live(e.Key, now); cur != nil && rng.IntN(5) != 0 {
					e.Record.Version = cur.Version
				}
			}
			var want error
			for _, e := range entries {
				if cur := m.live(e.Key, now); (cur == nil) != (e.Record.Version == 0) || cur != nil && cur.Version != e.Record.Version {
					want = store.ErrConflict
				}
			}
			if want == nil {
				for _, e := range entries {
					m.save(e.Key, e.Record, now)
				}
			}
			if err := s.SaveBatch(ctx, entries); !errors.Is(err, want) && (err != nil || want != nil) {
				t.Errorf("worker %d op %d: SaveBatch: got %v, want %v", w, op, err, want)
			}
		default:
			if _, err := s.Sweep(ctx); err != nil {
				t.Errorf("worker %d: Sweep: %v", w, err)
			}
		}
		clockMu.RUnlock()
	}
}
