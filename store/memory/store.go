package memory

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
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
	seed    maphash.Seed
	mask    uint64
	shards  []shard
	users   userIndex

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
	s := &Store{
		now:     cfg.Now,
		max:     int64(cfg.MaxSessions),
		maxAnon: int64(cfg.MaxAnonymous),
		warn:    warner{log: cfg.Logger},
		seed:    maphash.MakeSeed(),
		mask:    uint64(cfg.Shards - 1),
		shards:  make([]shard, cfg.Shards),
		users:   userIndex{keys: make(map[string]*userKeys)},
	}
	for i := range s.shards {
		s.shards[i].items = make(map[string]*item)
	}
	return s
}

// hashKey spreads keys over shards. Keys are opaque to a store, so it hashes
// them whole rather than trusting them to be hex digests.
func hashKey(seed maphash.Seed, key string) uint64 {
	return maphash.String(seed, key)
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
// returns it, without allocating a Record: only the values are copied.
func (s *Store) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: load: %w", err)
	}
	now := s.now()
	sh := s.shardFor(key)
	sh.mu.RLock()
	it := sh.items[key]
	if it != nil && it.live(now) {
		it.copyTo(rec)
		sh.mu.RUnlock()
		return nil
	}
	sh.mu.RUnlock()
	if it == nil {
		return store.ErrNotFound
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if it = s.liveLocked(sh, key, now); it == nil {
		return store.ErrNotFound
	}
	it.copyTo(rec)
	return nil
}

// Save stores a copy of rec under key if the stored version is rec.Version
// (0 for no live record), and reports [store.ErrConflict] otherwise. A
// record saved already expired is not kept. Creating a record in a full
// store makes room as described at [Config].MaxSessions and
// [Config].MaxAnonymous, or fails with [store.ErrFull].
func (s *Store) Save(ctx context.Context, key string, rec *store.Record) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: save: %w", err)
	}
	now := s.now()
	sh := s.shardFor(key)
	var res places
	defer s.release(&res)
	for {
		sh.mu.Lock()
		err := s.saveLocked(sh, key, rec, now, &res)
		sh.mu.Unlock()
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
func (s *Store) saveLocked(sh *shard, key string, rec *store.Record, now time.Time, res *places) error {
	s.reapLocked(sh, now, reapPerWrite)
	it, err := s.casLocked(sh, key, rec.Version, now)
	if err != nil {
		return err
	}
	return s.applyLocked(sh, key, it, rec, now, res)
}

// casLocked is the compare-and-set check of a save with version under
// key: it returns the live record the save replaces (nil when there is
// none and version is 0), or store.ErrConflict.
func (s *Store) casLocked(sh *shard, key string, version uint64, now time.Time) (*item, error) {
	it := s.liveLocked(sh, key, now)
	switch {
	case it == nil && version == 0:
		return nil, nil
	case it == nil || it.rec.Version != version:
		return nil, store.ErrConflict
	}
	return it, nil
}

// applyLocked writes rec under key, over it, the live record that
// casLocked found (nil: none). A record saved already expired is not
// kept. Creating a record reserves its places first, which may fail as
// in saveLocked.
func (s *Store) applyLocked(sh *shard, key string, it *item, rec *store.Record, now time.Time, res *places) error {
	switch {
	case it == nil:
		return s.createLocked(sh, key, rec, now, res)
	case !rec.Live(now):
		s.removeLocked(sh, it)
	default:
		s.updateLocked(sh, it, rec)
	}
	return nil
}

// createLocked adds a record under key, which holds no live record.
func (s *Store) createLocked(sh *shard, key string, rec *store.Record, now time.Time, res *places) error {
	if !rec.Live(now) {
		return nil
	}
	anon := rec.UserID == ""
	if err := s.reservePlaces(anon, res); err != nil {
		return err
	}
	*res = places{} // the record holds them now
	it := &item{key: strings.Clone(key), anon: anon}
	it.set(rec, 1)
	s.insertLocked(sh, it)
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

// updateLocked replaces the record of it with rec and bumps its version.
func (s *Store) updateLocked(sh *shard, it *item, rec *store.Record) {
	oldUser := it.rec.UserID
	it.set(rec, rec.Version+1)
	if anon := rec.UserID == ""; anon != it.anon {
		// A login or logout in place: the record changes queues. One that
		// becomes anonymous is counted, never refused.
		heap.Remove(sh.queueOf(it), it.index)
		it.anon = anon
		heap.Push(sh.queueOf(it), it)
		if anon {
			s.anonCount.Add(1)
		} else {
			s.anonCount.Add(-1)
		}
	} else {
		heap.Fix(sh.queueOf(it), it.index)
	}
	s.users.move(oldUser, it.rec.UserID, it.key)
}

// Delete removes the record stored under key, if any.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: delete: %w", err)
	}
	now := s.now()
	sh := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.reapLocked(sh, now, reapPerWrite)
	if it := sh.items[key]; it != nil {
		s.removeLocked(sh, it)
	}
	return nil
}

// Touch sets LastSeen and Expires of the live record under key, keeping its
// version, or reports [store.ErrNotFound] if there is none.
func (s *Store) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: touch: %w", err)
	}
	now := s.now()
	sh := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.reapLocked(sh, now, reapPerWrite)
	it := s.liveLocked(sh, key, now)
	if it == nil {
		return store.ErrNotFound
	}
	it.rec.LastSeen, it.rec.Expires = lastSeen, expires
	heap.Fix(sh.queueOf(it), it.index)
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
		n += len(sh.items)
		sh.mu.Unlock()
	}
	return int(min(int64(n), s.max))
}

// NeverBlocks reports true: the store does no I/O, and holds a shard's
// lock only for a map or heap operation, so its calls need no timeout.
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
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.items, sh.queue, sh.anon = make(map[string]*item), nil, nil
		sh.mu.Unlock()
	}
	s.users.reset()
	return nil
}
