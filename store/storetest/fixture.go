package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

// fixture is what one subtest works with: a fresh store, the clock it reads
// and the test's context.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	clock *Clock
	s     store.Store
}

// newFixture makes a store with h on a new clock that starts at the real
// current time, truncated to the microsecond.
func newFixture(t *testing.T, h Harness) *fixture {
	t.Helper()
	clock := NewClock(time.Now().UTC().Truncate(time.Microsecond))
	s := h.New(t, clock.Now)
	if s == nil {
		t.Fatal("storetest: Harness.New returned a nil store")
	}
	return &fixture{t: t, ctx: t.Context(), clock: clock, s: s}
}

// has reports whether the store has capability c.
func (f *fixture) has(c capability) bool {
	var ok bool
	switch c {
	case userIndex:
		_, ok = f.s.(store.UserIndex)
	case sweeper:
		_, ok = f.s.(store.Sweeper)
	case scanner:
		_, ok = f.s.(store.Scanner)
	case counter:
		_, ok = f.s.(store.Counter)
	case batcher:
		_, ok = f.s.(store.Batcher)
	case recordLoader:
		_, ok = f.s.(store.RecordLoader)
	default:
		ok = true
	}
	return ok
}

// require fails the test unless the store has capability c: Run leaves
// out the cases a store cannot pass, so this only guards a case's wiring.
func (f *fixture) require(c capability) {
	f.t.Helper()
	if !f.has(c) {
		f.t.Fatalf("storetest: %T does not implement %s", f.s, c)
	}
}

// users returns the store's user index; require(userIndex) has checked it.
func (f *fixture) users() store.UserIndex {
	return f.s.(store.UserIndex)
}

// now returns the store's current time.
func (f *fixture) now() time.Time {
	return f.clock.Now()
}

// advanceTo moves the clock forward to at.
func (f *fixture) advanceTo(at time.Time) {
	f.t.Helper()
	d := at.Sub(f.clock.Now())
	if d < 0 {
		f.t.Fatalf("storetest: cannot move the clock back to %v", at)
	}
	f.clock.Advance(d)
}

// record returns a record with every field set, timed at the current clock.
func (f *fixture) record() *store.Record {
	return newRecord(f.clock.Now())
}

// create saves rec under key with version 0, failing the test on error, and
// returns what the store should now hold: a copy of rec with version 1.
func (f *fixture) create(key string, rec *store.Record) *store.Record {
	f.t.Helper()
	rec = rec.Clone()
	rec.Version = 0
	if err := f.s.Save(f.ctx, key, rec); err != nil {
		f.t.Fatalf("create: Save(version 0): got error %v, want nil", err)
	}
	rec.Version = 1
	return rec
}

// createEntry creates rec under a new key.
func (f *fixture) createEntry(rec *store.Record) store.Entry {
	f.t.Helper()
	key := newKey()
	return store.Entry{Key: key, Record: f.create(key, rec)}
}

// update saves rec under key with its version, failing the test on error,
// and returns what the store should now hold: a copy with the next version.
func (f *fixture) update(key string, rec *store.Record) *store.Record {
	f.t.Helper()
	if err := f.s.Save(f.ctx, key, rec); err != nil {
		f.t.Fatalf("update: Save(version %d): got error %v, want nil", rec.Version, err)
	}
	rec = rec.Clone()
	rec.Version++
	return rec
}

// load loads key, failing the test unless the record exists.
func (f *fixture) load(key string) *store.Record {
	f.t.Helper()
	rec, err := f.s.Load(f.ctx, key)
	if err != nil {
		f.t.Fatalf("Load: got error %v, want nil", err)
	}
	if rec == nil {
		f.t.Fatal("Load: got a nil record and a nil error")
	}
	return rec
}

// wantStored checks that key loads as want.
func (f *fixture) wantStored(what, key string, want *store.Record) {
	f.t.Helper()
	checkRecord(f.t, what, f.load(key), want)
}

// wantAbsent checks that Load reports key as absent.
func (f *fixture) wantAbsent(what, key string) {
	f.t.Helper()
	if _, err := f.s.Load(f.ctx, key); !errors.Is(err, store.ErrNotFound) {
		f.t.Errorf("%s: Load: got error %v, want %v", what, err, store.ErrNotFound)
	}
}

// wantErr checks that err is, or wraps, target.
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// newKey returns a random key shaped like the Manager's: 64 lowercase hex
// digits.
func newKey() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newKeys returns n distinct random keys.
func newKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = newKey()
	}
	return keys
}
