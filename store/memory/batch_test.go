package memory

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/storetest"
)

// Concurrent read-modify-write loops that each bump two counters, kept
// under keys in different shards, in one batch: a batch that wrote one
// counter and not the other would leave them apart.
func TestSaveBatchBumpsTwoRecordsTogether(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := New(Config{Shards: 4, Logger: discard})
	var keys [2]string
	for i := 0; keys[1] == ""; i++ {
		k := fmt.Sprint("counter-", i)
		if keys[0] == "" {
			keys[0] = k
		} else if s.shardFor(k) != s.shardFor(keys[0]) {
			keys[1] = k
		}
	}
	expires := time.Now().Add(time.Hour)
	for _, k := range keys {
		if err := s.Save(ctx, k, &store.Record{Expires: expires, Deadline: expires, Data: []byte("0")}); err != nil {
			t.Fatal(err)
		}
	}
	const workers, bumps = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		// Half the workers list the keys the other way round.
		order := keys
		if w%2 == 1 {
			order[0], order[1] = keys[1], keys[0]
		}
		wg.Go(func() {
			for done := 0; done < bumps; {
				var batch []store.Entry
				for _, k := range order {
					rec, err := s.Load(ctx, k)
					if err != nil {
						t.Error(err)
						return
					}
					n, _ := strconv.Atoi(string(rec.Data))
					rec.Data = []byte(strconv.Itoa(n + 1))
					batch = append(batch, store.Entry{Key: k, Record: rec})
				}
				switch err := s.SaveBatch(ctx, batch); {
				case err == nil:
					done++
				case !errors.Is(err, store.ErrConflict):
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, k := range keys {
		rec, err := s.Load(ctx, k)
		if want := strconv.Itoa(workers * bumps); err != nil || string(rec.Data) != want || rec.Version != workers*bumps+1 {
			t.Errorf("counter %s: got %+v, %v, want %s at version %d", k, rec, err, want, workers*bumps+1)
		}
	}
	checkInvariants(t, s)
}

// Batches of random keys among every other method keep the shards, the
// queues, the user index and the counts consistent, and never deadlock.
func TestSaveBatchUnderChurnKeepsInvariants(t *testing.T) {
	t.Parallel()
	const workers, ops, max = 8, 1000, 64
	clock := storetest.NewClock(time.Now())
	s := New(Config{MaxSessions: max, MaxAnonymous: 16, Shards: 4, Now: clock.Now, Logger: discard})
	var wg sync.WaitGroup
	for w := range workers {
		rng := rand.New(rand.NewPCG(uint64(w), 11))
		wg.Go(func() {
			churn(t, s, clock, rng, ops/2)
			for range ops / 2 {
				if err := saveRandomBatch(t, s, clock.Now(), rng); err != nil &&
					!errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrFull) {
					t.Errorf("SaveBatch: got error %v, want nil, %v or %v", err, store.ErrConflict, store.ErrFull)
				}
			}
		})
	}
	wg.Wait()
	checkInvariants(t, s)
}

// saveRandomBatch saves one to three distinct random keys in a batch, each
// created or updated at the version it loads.
func saveRandomBatch(t *testing.T, s *Store, now time.Time, rng *rand.Rand) error {
	users := []string{"", "A", "B"}
	seen := make(map[string]bool)
	var batch []store.Entry
	for range 1 + rng.IntN(3) {
		key := fmt.Sprintf("key-%d", rng.IntN(200))
		if seen[key] {
			continue
		}
		seen[key] = true
		rec := &store.Record{
			UserID:   users[rng.IntN(len(users))],
			Expires:  now.Add(time.Duration(rng.IntN(600)) * time.Second),
			Deadline: now.Add(time.Duration(rng.IntN(1200)) * time.Second),
		}
		if cur, err := s.Load(t.Context(), key); err == nil {
			rec.Version = cur.Version
		}
		batch = append(batch, store.Entry{Key: key, Record: rec})
	}
	return s.SaveBatch(t.Context(), batch)
}

// A renewal in a full store evicts the record due soonest to make room
// for the new record, before it writes anything.
func TestSaveBatchMakesRoomInAFullStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Now())
	s := New(Config{MaxSessions: 3, Now: clock.Now, Logger: discard})
	now := clock.Now()
	for i := range 3 {
		if err := s.Save(ctx, fmt.Sprint("user-", i), recFor("u", now, time.Duration(3-i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	renewed := recFor("u", now, time.Hour)
	marker := recFor("", now, time.Minute)
	marker.Version = 1
	if err := s.SaveBatch(ctx, []store.Entry{{Key: "renewed", Record: renewed}, {Key: "user-0", Record: marker}}); err != nil {
		t.Fatalf("SaveBatch in a full store: %v", err)
	}
	if _, err := s.Load(ctx, "user-2"); !errors.Is(err, store.ErrNotFound) || s.Evictions() != 1 {
		t.Errorf("the record due soonest: got %v, %d evictions, want it evicted, 1", err, s.Evictions())
	}
	if rec, err := s.Load(ctx, "user-0"); err != nil || rec.UserID != "" || rec.Version != 2 {
		t.Errorf("the renewed session's old key: got %+v, %v, want the marker at version 2", rec, err)
	}
	if list, err := s.ListUser(ctx, "u"); err != nil || len(list) != 2 {
		t.Errorf("ListUser: got %d sessions, %v, want user-1 and the renewed one", len(list), err)
	}
	checkInvariants(t, s)
}

// A batch that could never fit, or whose anonymous records only signed-in
// ones could make room for, fails with ErrFull and writes nothing.
func TestSaveBatchThatCannotFitFailsWithErrFull(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Now())
	s := New(Config{MaxSessions: 3, MaxAnonymous: 2, Now: clock.Now, Logger: discard})
	now := clock.Now()
	batch := func(users ...string) []store.Entry {
		var b []store.Entry
		for i, u := range users {
			b = append(b, store.Entry{Key: fmt.Sprint("new-", i), Record: recFor(u, now, time.Hour)})
		}
		return b
	}
	for _, b := range [][]store.Entry{batch("a", "b", "c", "d"), batch("", "", "")} {
		if err := s.SaveBatch(ctx, b); !errors.Is(err, store.ErrFull) {
			t.Errorf("SaveBatch of %d records past a bound: got %v, want ErrFull", len(b), err)
		}
	}
	if err := s.Save(ctx, "signed-in", recFor("u", now, time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "signed-in-2", recFor("u", now, time.Hour)); err != nil {
		t.Fatal(err)
	}
	// One place is free, and two anonymous records would need a signed-in
	// record evicted.
	if err := s.SaveBatch(ctx, batch("", "")); !errors.Is(err, store.ErrFull) {
		t.Errorf("SaveBatch of two anonymous records with one place left: got %v, want ErrFull", err)
	}
	if s.Len() != 2 || s.Evictions() != 0 || s.Refusals() != 1 {
		t.Errorf("got %d records, %d evictions, %d refusals, want 2, 0, 1", s.Len(), s.Evictions(), s.Refusals())
	}
	checkInvariants(t, s)
}

func TestSaveBatchRefusesARepeatedKey(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	now := time.Now()
	err := s.SaveBatch(t.Context(), []store.Entry{{Key: "k", Record: recFor("a", now, time.Hour)}, {Key: "k", Record: recFor("b", now, time.Hour)}})
	if err == nil || errors.Is(err, store.ErrConflict) || !strings.HasPrefix(err.Error(), "memory store: save batch: ") {
		t.Errorf("SaveBatch naming a key twice: got %v, want a memory store error", err)
	}
	if s.Len() != 0 {
		t.Errorf("after the refused batch: got %d records, want 0", s.Len())
	}
}
