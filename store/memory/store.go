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

// errFull reports, inside a Save, that creating a record needs room first.
var errFull = errors.New("full")

// Store is a bounded in-memory session store. It implements [store.Store],
// [store.UserIndex] and [store.Sweeper]. Its methods are safe for
// concurrent use. It starts no goroutine; Close only releases its records.
// Create a Store with New; the zero Store is not usable.
type Store struct {
	now    func() time.Time
	max    int64
	seed   maphash.Seed
	mask   uint64
	shards []shard
	users  userIndex

	count     atomic.Int64 // records held plus places reserved by saves in progress
	evictions atomic.Uint64
	closed    atomic.Bool
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.UserIndex   = (*Store)(nil)
	_ store.Sweeper     = (*Store)(nil)
	_ store.NonBlocking = (*Store)(nil)
	_ io.Closer         = (*Store)(nil)
)

// New returns an empty store configured by cfg. It panics if a field of cfg
// is negative.
func New(cfg Config) *Store {
	cfg = cfg.withDefaults()
	s := &Store{
		now:    cfg.Now,
		max:    int64(cfg.MaxSessions),
		seed:   maphash.MakeSeed(),
		mask:   uint64(cfg.Shards - 1),
		shards: make([]shard, cfg.Shards),
		users:  userIndex{keys: make(map[string]*userKeys)},
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
	if err := s.enter(ctx); err != nil {
		return nil, fmt.Errorf("memory store: load: %w", err)
	}
	now := s.now()
	sh := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	it := s.liveLocked(sh, key, now)
	if it == nil {
		return nil, store.ErrNotFound
	}
	return it.rec.Clone(), nil
}

// Save stores a copy of rec under key if the stored version is rec.Version
// (0 for no live record), and reports [store.ErrConflict] otherwise. A
// record saved already expired is not kept. Creating a record in a full
// store makes room as described at [Config].MaxSessions.
func (s *Store) Save(ctx context.Context, key string, rec *store.Record) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: save: %w", err)
	}
	now := s.now()
	sh := s.shardFor(key)
	reserved := false // whether this call holds a place under the bound
	for {
		sh.mu.Lock()
		err := s.saveLocked(sh, key, rec, now, &reserved)
		sh.mu.Unlock()
		if err != errFull {
			if reserved {
				s.count.Add(-1)
			}
			return err
		}
		reserved = s.makeRoom(now)
	}
}

// saveLocked does Save's work under the shard lock. It returns errFull when
// it must create a record and finds no room; it sets *reserved to false when
// it uses the place the caller reserved.
func (s *Store) saveLocked(sh *shard, key string, rec *store.Record, now time.Time, reserved *bool) error {
	s.reapLocked(sh, now, reapPerWrite)
	it := s.liveLocked(sh, key, now)
	switch {
	case it == nil && rec.Version == 0:
		return s.createLocked(sh, key, rec, now, reserved)
	case it == nil || it.rec.Version != rec.Version:
		return store.ErrConflict
	case !rec.Live(now):
		s.removeLocked(sh, it)
	default:
		s.updateLocked(sh, it, rec)
	}
	return nil
}

// createLocked adds a record under key, which holds no live record.
func (s *Store) createLocked(sh *shard, key string, rec *store.Record, now time.Time, reserved *bool) error {
	if !rec.Live(now) {
		return nil
	}
	if !*reserved && !s.reserve() {
		return errFull
	}
	*reserved = false
	it := &item{key: strings.Clone(key)}
	it.set(rec, 1)
	s.insertLocked(sh, it)
	return nil
}

// updateLocked replaces the record of it with rec and bumps its version.
func (s *Store) updateLocked(sh *shard, it *item, rec *store.Record) {
	oldUser := it.rec.UserID
	it.set(rec, rec.Version+1)
	heap.Fix(&sh.queue, it.index)
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
	heap.Fix(&sh.queue, it.index)
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
// within [Config].MaxSessions.
func (s *Store) Evictions() uint64 {
	return s.evictions.Load()
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
		sh.items, sh.queue = make(map[string]*item), nil
		sh.mu.Unlock()
	}
	s.users.reset()
	return nil
}
