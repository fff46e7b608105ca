package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keycard-go/keycard/store"
)

func testConcurrentIncrements(f *fixture) {
	const workers, increments = 16, 25
	key := newKey()
	rec := f.record()
	rec.Data = []byte("0")
	f.create(key, rec)

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range increments {
				if !f.increment(key) {
					return
				}
			}
		})
	}
	wg.Wait()

	got := f.load(key)
	if want := strconv.Itoa(workers * increments); string(got.Data) != want {
		f.t.Errorf("got counter %q, want %q", got.Data, want)
	}
	if want := uint64(1 + workers*increments); got.Version != want {
		f.t.Errorf("got Version %d, want %d", got.Version, want)
	}
}

// increment adds one to the decimal counter in key's data with a
// read-modify-write loop, retrying on ErrConflict. It reports any other
// failure and returns false.
func (f *fixture) increment(key string) bool {
	for {
		rec, err := f.s.Load(f.ctx, key)
		if err != nil {
			f.t.Errorf("Load: got error %v, want nil", err)
			return false
		}
		n, err := strconv.Atoi(string(rec.Data))
		if err != nil {
			f.t.Errorf("Load: got Data %q, want a decimal counter", rec.Data)
			return false
		}
		rec.Data = strconv.AppendInt(nil, int64(n+1), 10)
		err = f.s.Save(f.ctx, key, rec)
		if err == nil {
			return true
		}
		if !errors.Is(err, store.ErrConflict) {
			f.t.Errorf("Save: got error %v, want nil or %v", err, store.ErrConflict)
			return false
		}
	}
}

func testConcurrentCreates(f *fixture) {
	const writers = 20
	key := newKey()
	start := make(chan struct{})
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		rec := f.record()
		rec.Data = fmt.Appendf(nil, "writer %d", i)
		wg.Go(func() {
			<-start
			errs[i] = f.s.Save(f.ctx, key, rec)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			f.t.Errorf("writers %d and %d both created the key", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			f.t.Errorf("writer %d: got error %v, want nil or %v", i, err, store.ErrConflict)
		}
	}
	if winner < 0 {
		f.t.Fatalf("got no writer that created the key, want exactly one")
	}
	got := f.load(key)
	if want := fmt.Sprintf("writer %d", winner); string(got.Data) != want || got.Version != 1 {
		f.t.Errorf("got Data %q at version %d, want %q (the winner's) at version 1", got.Data, got.Version, want)
	}
}

func testConcurrentMixed(f *fixture) {
	const workers, rounds = 4, 20
	key := newKey()
	rec := f.record()
	markRecord(rec, "initial")
	f.create(key, rec)

	var saves atomic.Uint64
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() { f.saveLoop(key, g, rounds, &saves) })
		wg.Go(func() { f.touchLoop(key, rounds) })
		wg.Go(func() { f.loadLoop(key, rounds) })
	}
	wg.Wait()

	got := f.load(key)
	f.checkMarked("final record", got)
	if want := 1 + saves.Load(); got.Version != want {
		f.t.Errorf("got Version %d after %d successful saves, want %d", got.Version, saves.Load(), want)
	}
}

// markRecord gives rec a user agent and data derived from mark, so that a
// record mixing two saves can be told apart.
func markRecord(rec *store.Record, mark string) {
	rec.UserAgent = mark
	rec.Data = bytes.Repeat([]byte(mark), 8)
}

// checkMarked reports rec unless its data matches its user agent, as
// markRecord left them.
func (f *fixture) checkMarked(what string, rec *store.Record) {
	f.t.Helper()
	if want := bytes.Repeat([]byte(rec.UserAgent), 8); !bytes.Equal(rec.Data, want) {
		f.t.Errorf("%s: got Data %s with UserAgent %q, want data from the same save", what, describe(rec.Data), rec.UserAgent)
	}
}

// saveLoop makes rounds read-modify-write attempts on key, counting the
// ones that succeed in saves.
func (f *fixture) saveLoop(key string, worker, rounds int, saves *atomic.Uint64) {
	for i := range rounds {
		rec, err := f.s.Load(f.ctx, key)
		if err != nil {
			f.t.Errorf("Load: got error %v, want nil", err)
			return
		}
		markRecord(rec, fmt.Sprintf("saver %d, round %d;", worker, i))
		switch err := f.s.Save(f.ctx, key, rec); {
		case err == nil:
			saves.Add(1)
		case !errors.Is(err, store.ErrConflict):
			f.t.Errorf("Save: got error %v, want nil or %v", err, store.ErrConflict)
			return
		}
	}
}

// touchLoop touches key rounds times; the record always exists.
func (f *fixture) touchLoop(key string, rounds int) {
	for range rounds {
		now := f.now()
		if err := f.s.Touch(f.ctx, key, now, now.Add(time.Hour)); err != nil {
			f.t.Errorf("Touch: got error %v, want nil", err)
			return
		}
	}
}

// loadLoop loads key rounds times and checks that each record is whole.
func (f *fixture) loadLoop(key string, rounds int) {
	for range rounds {
		rec, err := f.s.Load(f.ctx, key)
		if err != nil {
			f.t.Errorf("Load: got error %v, want nil", err)
			return
		}
		f.checkMarked("concurrent Load", rec)
	}
}
