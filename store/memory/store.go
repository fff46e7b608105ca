package memory

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync/atomic"
	"time"

	"github.com/keycard-go/keycard/store"
)

// reapPerWrite is how many expired records each write removes from the head
// of its shard's queue, so expired records are reclaimed as the store is
// used, without a background goroutine.
const reapPerWrite = 4

// errFull and errAnonFull report, inside a Save, that creating a record
// needs room first: under MaxSessions, or under MaxAnonymous.
var (
	errFull     = errors.New("full")
	errAnonFull = errors.New("anonymous full")
)

// Store is a bounded in-memory session store. It implements [store.Store],
// [store.UserIndex], [store.Sweeper], [store.Scanner], [store.Counter],
// [store.Batcher] and [store.RecordLoader]. Its methods are safe for
// concurrent use. It starts no goroutine; Close only releases its records.
// Create a Store with New; the zero Store is not usable.
type Store struct {
	now     func() time.Time
	max     int64
	maxAnon int64
	mask    uint64
	shards  []shard
	users   userIndex

	// keyBucket and userBucket spread keys over shards and buckets, and
	// users over the user index's buckets. Tests replace them to make
	// distinct keys and users collide.
	keyBucket  func(key string) uint64
	userBucket func(user string) uint64

	count     atomic.Int64 // records held plus places reserved by saves in progress
	anonCount atomic.Int64 // the same, for anonymous records
	evictions atomic.Uint64
	refusals  atomic.Uint64
	warn      warner
	closed    atomic.Bool
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.UserIndex    = (*Store)(nil)
	_ store.Sweeper      = (*Store)(nil)
	_ store.RecordLoader = (*Store)(nil)
	_ store.NonBlocking  = (*Store)(nil)
	_ io.Closer          = (*Store)(nil)
)

// New returns an empty store configured by cfg. It panics if a field of cfg
// is negative.
func New(cfg Config) *Store {
	cfg = cfg.withDefaults()
	seed := maphash.MakeSeed()
	s := &Store{
		now:     cfg.Now,
		max:     int64(cfg.MaxSessions),
		maxAnon: int64(cfg.MaxAnonymous),
		warn:    warner{log: cfg.Logger},
		mask:    uint64(cfg.Shards - 1),
		shards:  make([]shard, cfg.Shards),
		// Keys are opaque to a store, so they are hashed whole rather
		// than trusted to be hex digests. A user's bucket is keyed
		// apart from a key's, with a seed of its own.
		keyBucket:  func(key string) uint64 { return maphash.String(seed, key) },
		userBucket: newUserBucket(),
	}
	for i := range s.shards {
		s.shards[i].reset()
	}
	s.users.reset()
	return s
}

// newUserBucket returns a keyed hash of user IDs with a new seed.
func newUserBucket() func(string) uint64 {
	seed := maphash.MakeSeed()
	return func(user string) uint64 { return maphash.String(seed, user) }
}

// enter reports why a method may not run: the store is closed or ctx is
// done.
func (s *Store) enter(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// Load returns a copy of the record stored under key, or
// [store.ErrNotFound] if there is none or it has expired.
func (s *Store) Load(ctx context.Context, key string) (*store.Record, error) {
	rec := new(store.Record)
	if err := s.LoadRecord(ctx, key, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// LoadRecord sets *rec to a copy of the record stored under key, as Load
// returns it, without allocating a Record: it makes one allocation, for
// Data and the bytes of UserID, IP and UserAgent together.
func (s *Store) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: load: %w", err)
	}
	now := encodeTime(s.now())
	fp := s.keyBucket(key)
	sh := &s.shards[fp&s.mask]
	sh.mu.RLock()
	i := sh.find(fp, key)
	if i >= 0 && sh.slots[i].live(now) {
		sh.copyTo(i, rec)
		sh.mu.RUnlock()
		return nil
	}
	sh.mu.RUnlock()
	if i < 0 {
		return store.ErrNotFound
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i = s.liveLocked(sh, fp, key, now); i < 0 {
		sh.tidy()
		return store.ErrNotFound
	}
	sh.copyTo(i, rec)
	return nil
}

// errTooLong reports a record whose key, strings and data together are
// longer than the store keeps.
var errTooLong = errors.New("record too long")

// Save stores a copy of rec under key if the stored version is rec.Version
// (0 for no live record), and reports [store.ErrConflict] otherwise. A
// record saved already expired is not kept. Creating a record in a full
// store makes room as described at [Config].MaxSessions and
// [Config].MaxAnonymous, or fails with [store.ErrFull].
func (s *Store) Save(ctx context.Context, key string, rec *store.Record) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: save: %w", err)
	}
	if recordLen(key, rec) > maxLen {
		return fmt.Errorf("memory store: save: %w", errTooLong)
	}
	now := s.now()
	fp := s.keyBucket(key)
	sh := &s.shards[fp&s.mask]
	var res places
	defer s.release(&res)
	for {
		sh.mu.Lock()
		err := s.saveLocked(sh, fp, key, rec, now, &res)
		sh.tidy()
		sh.mu.Unlock()
		if (err == errFull || err == errAnonFull) && s.closed.Load() {
			// Close emptied the store but not its counts: no room will
			// come.
			return fmt.Errorf("memory store: save: %w", ErrClosed)
		}
		switch err {
		case errFull:
			if !s.makeRoom(now, rec.UserID == "") {
				s.refusals.Add(1)
				s.warn.warn("refused a new anonymous session: signed-in sessions fill MaxSessions", now)
				return fmt.Errorf("memory store: save: %w", store.ErrFull)
			}
		case errAnonFull:
			s.makeRoom(now, true)
		default:
			return err
		}
	}
}

// places are the places under the bounds that a Save holds.
type places struct{ total, anon bool }

// release gives back the places a Save reserved but did not use.
func (s *Store) release(p *places) {
	if p.total {
		s.count.Add(-1)
	}
	if p.anon {
		s.anonCount.Add(-1)
	}
	*p = places{}
}

// saveLocked does Save's work under the shard lock. It returns errFull or
// errAnonFull when it must create a record and finds no room under a
// bound; the places it reserves stay in *res until a record takes them.
func (s *Store) saveLocked(sh *shard, fp uint64, key string, rec *store.Record, now time.Time, res *places) error {
	s.reapLocked(sh, encodeTime(now), reapPerWrite)
	i, err := s.casLocked(sh, fp, key, rec.Version, now)
	if err != nil {
		return err
	}
	return s.applyLocked(sh, fp, key, i, rec, now, res)
}

// casLocked is the compare-and-set check of a save with version under
// key, whose bucket is fp: it returns the slot of the live record the save
// replaces (-1 when there is none and version is 0), or
// store.ErrConflict.
func (s *Store) casLocked(sh *shard, fp uint64, key string, version uint64, now time.Time) (int32, error) {
	i := s.liveLocked(sh, fp, key, encodeTime(now))
	switch {
	case i < 0 && version == 0:
		return -1, nil
	case i < 0 || sh.slots[i].version != version:
		return -1, store.ErrConflict
	}
	return i, nil
}

// applyLocked writes rec under key over slot i, the live record that
// casLocked found (-1: none). A record saved already expired is not kept.
// Creating a record reserves its places first, which may fail as in
// saveLocked.
func (s *Store) applyLocked(sh *shard, fp uint64, key string, i int32, rec *store.Record, now time.Time, res *places) error {
	switch {
	case i < 0:
		return s.createLocked(sh, fp, key, rec, now, res)
	case !rec.Live(now):
		s.removeLocked(sh, i)
	default:
		s.updateLocked(sh, i, key, rec)
	}
	return nil
}

// createLocked adds a record under key, which holds no live record.
func (s *Store) createLocked(sh *shard, fp uint64, key string, rec *store.Record, now time.Time, res *places) error {
	if !rec.Live(now) {
		return nil
	}
	if err := s.reservePlaces(rec.UserID == "", res); err != nil {
		return err
	}
	*res = places{} // the record holds them now
	s.insertLocked(sh, fp, key, rec, 1)
	return nil
}

// reservePlaces takes into *res the places under the bounds that a new
// record, anonymous or not, needs, unless *res holds them already. It
// returns errFull or errAnonFull when a bound has no room, keeping in *res
// what it has taken.
func (s *Store) reservePlaces(anon bool, res *places) error {
	if !res.total {
		if !reserve(&s.count, s.max) {
			return errFull
		}
		res.total = true
	}
	if anon && !res.anon {
		if !reserve(&s.anonCount, s.maxAnon) {
			return errAnonFull
		}
		res.anon = true
	}
	return nil
}

// updateLocked replaces the record of slot i, under key, with rec and
// bumps its version.
func (s *Store) updateLocked(sh *shard, i int32, key string, rec *store.Record) {
	sameUser := string(sh.userOf(i)) == rec.UserID
	sh.set(i, rec, rec.Version+1)
	sl := &sh.slots[i]
	if !sameUser {
		if sl.user >= 0 {
			s.users.remove(sl.user)
			sl.user = -1
		}
		if rec.UserID != "" {
			sl.user = s.users.add(s.userBucket(rec.UserID), rec.UserID, key)
		}
	}
	anon := rec.UserID == ""
	if anon == sl.anon() {
		sh.fix(*sh.queueOf(i), int(sl.pos))
		return
	}
	// A login or logout in place: the record changes queues. One that
	// becomes anonymous is counted, never refused.
	sh.pull(i)
	sl.flags ^= slotAnon
	sh.push(i)
	if anon {
		s.anonCount.Add(1)
	} else {
		s.anonCount.Add(-1)
	}
}

// Delete removes the record stored under key, if any.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: delete: %w", err)
	}
	now := encodeTime(s.now())
	fp := s.keyBucket(key)
	sh := &s.shards[fp&s.mask]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.reapLocked(sh, now, reapPerWrite)
	if i := sh.find(fp, key); i >= 0 {
		s.removeLocked(sh, i)
	}
	sh.tidy()
	return nil
}

// Touch sets LastSeen and Expires of the live record under key, keeping its
// version, or reports [store.ErrNotFound] if there is none.
func (s *Store) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: touch: %w", err)
	}
	now := encodeTime(s.now())
	fp := s.keyBucket(key)
	sh := &s.shards[fp&s.mask]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	defer sh.tidy()
	s.reapLocked(sh, now, reapPerWrite)
	i := s.liveLocked(sh, fp, key, now)
	if i < 0 {
		return store.ErrNotFound
	}
	sl := &sh.slots[i]
	sl.lastSeen, sl.expires = encodeTime(lastSeen), encodeTime(expires)
	sh.fix(*sh.queueOf(i), int(sl.pos))
	return nil
}

// Len returns how many records the store holds, counting expired records
// not yet removed. It counts one shard at a time, so under concurrent
// writes it is approximate; it never reports more than MaxSessions, which
// the store never exceeds.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.len()
		sh.mu.Unlock()
	}
	return int(min(int64(n), s.max))
}

// NeverBlocks reports true: the store does no I/O, and holds a shard's
// lock only for a map or heap operation, or, now and then, to copy a
// shard that has become mostly empty, so its calls need no timeout.
func (s *Store) NeverBlocks() bool {
	return true
}

// Evictions returns how many live records the store has evicted to stay
// within [Config].MaxSessions and [Config].MaxAnonymous.
func (s *Store) Evictions() uint64 {
	return s.evictions.Load()
}

// Refusals returns how many new anonymous records the store has refused
// with [store.ErrFull] because signed-in records filled it.
func (s *Store) Refusals() uint64 {
	return s.refusals.Load()
}

// Close releases every record. Afterwards every method returns an error
// wrapping [ErrClosed]; calls already in progress may complete. Closing a
// closed store does nothing and returns nil.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	// Every shard and the user index at once, so that a call still in
	// progress finds them consistent: no slot names an entry of the index
	// it had before.
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
	for i := range s.shards {
		s.shards[i].reset()
	}
	s.users.reset()
	for i := range s.shards {
		s.shards[i].mu.Unlock()
	}
	return nil
}
