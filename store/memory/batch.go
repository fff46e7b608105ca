package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/keycard-go/keycard/store"
)

var _ store.Batcher = (*Store)(nil)

// errDuplicateKey reports a batch that names a key twice.
var errDuplicateKey = errors.New("two entries have the same key")

// SaveBatch saves each entry's record under its key as Save does, with
// compare-and-set on every version, atomically: it holds the locks of
// every shard the keys fall in, checks every version, and writes every
// record only when all of them hold; otherwise it changes nothing and
// reports [store.ErrConflict]. The keys must differ. New records need
// room as in Save, which SaveBatch makes, evicting if it must, before it
// writes anything; a batch that would create more records than
// [Config].MaxSessions, or more anonymous ones than
// [Config].MaxAnonymous, fails with [store.ErrFull].
func (s *Store) SaveBatch(ctx context.Context, entries []store.Entry) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: save batch: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	now := s.now()
	b, err := s.newBatch(entries, now)
	if err != nil {
		return fmt.Errorf("memory store: save batch: %w", err)
	}
	defer b.release(s)
	for {
		i, err := s.saveBatchLocked(b, now)
		if err != errFull && err != errAnonFull {
			return err
		}
		if s.closed.Load() {
			// Close emptied the store but not its counts: no room will
			// come.
			return fmt.Errorf("memory store: save batch: %w", ErrClosed)
		}
		// Make room holding no place: a place this batch holds could be
		// the only one makeRoom might free.
		b.release(s)
		anon := entries[i].Record.UserID == ""
		if err == errAnonFull {
			s.makeRoom(now, true)
		} else if !s.makeRoom(now, anon) {
			s.refusals.Add(1)
			s.warn.warn("refused a new anonymous session: signed-in sessions fill MaxSessions", now)
			return fmt.Errorf("memory store: save batch: %w", store.ErrFull)
		}
	}
}

// batch is a SaveBatch in progress.
type batch struct {
	entries []store.Entry
	fps     []uint64 // the bucket of each entry's key
	shards  []*shard // the shard of each entry
	locks   []*shard // the distinct shards, in the order of the store's: the lock order
	slots   []int32  // the slot of the live record each entry replaces, or -1
	res     []places // the places each entry's new record holds
}

// newBatch prepares a batch of entries. It reports errDuplicateKey when
// two entries share a key, and store.ErrFull when the batch creates more
// records than a bound allows, which no eviction could make room for.
func (s *Store) newBatch(entries []store.Entry, now time.Time) (*batch, error) {
	b := &batch{
		entries: entries,
		fps:     make([]uint64, len(entries)),
		shards:  make([]*shard, len(entries)),
		slots:   make([]int32, len(entries)),
		res:     make([]places, len(entries)),
	}
	seen := make(map[string]struct{}, len(entries))
	indexes := make([]uint64, 0, len(entries))
	var creates, anon int64
	for i, e := range entries {
		if _, dup := seen[e.Key]; dup {
			return nil, errDuplicateKey
		}
		seen[e.Key] = struct{}{}
		if recordLen(e.Key, e.Record) > maxLen {
			return nil, errTooLong
		}
		b.fps[i] = s.keyBucket(e.Key)
		idx := b.fps[i] & s.mask
		b.shards[i] = &s.shards[idx]
		indexes = append(indexes, idx)
		if e.Record.Version == 0 && e.Record.Live(now) {
			creates++
			if e.Record.UserID == "" {
				anon++
			}
		}
	}
	if creates > s.max || anon > s.maxAnon {
		return nil, store.ErrFull
	}
	slices.Sort(indexes)
	for _, idx := range slices.Compact(indexes) {
		b.locks = append(b.locks, &s.shards[idx])
	}
	return b, nil
}

// release gives back the places the batch holds.
func (b *batch) release(s *Store) {
	for i := range b.res {
		s.release(&b.res[i])
	}
}

// saveBatchLocked does SaveBatch's work under the locks of the batch's
// shards, taken in the order of the store's shards so that two batches
// cannot deadlock (every other method holds one shard lock at a time). It
// checks every entry's version, then reserves the places of the records it
// creates, then writes every entry. It returns store.ErrConflict having
// changed nothing, or errFull or errAnonFull, with the index of the entry
// that found no room, having written nothing but kept its reserved places
// in the batch.
func (s *Store) saveBatchLocked(b *batch, now time.Time) (int, error) {
	for _, sh := range b.locks {
		sh.mu.Lock()
	}
	defer func() {
		for _, sh := range b.locks {
			// Only now, when no slot number of the batch is in use.
			sh.tidy()
			sh.mu.Unlock()
		}
	}()
	for _, sh := range b.locks {
		s.reapLocked(sh, encodeTime(now), reapPerWrite)
	}
	for i, e := range b.entries {
		slot, err := s.casLocked(b.shards[i], b.fps[i], e.Key, e.Record.Version, now)
		if err != nil {
			return i, err
		}
		b.slots[i] = slot
	}
	for i, e := range b.entries {
		if b.slots[i] < 0 && e.Record.Live(now) {
			if err := s.reservePlaces(e.Record.UserID == "", &b.res[i]); err != nil {
				return i, err
			}
		}
	}
	for i, e := range b.entries {
		// Every version matched and every new record holds its places,
		// so no write can fail.
		if err := s.applyLocked(b.shards[i], b.fps[i], e.Key, b.slots[i], e.Record, now, &b.res[i]); err != nil {
			panic("memory store: save batch: a write failed after its checks: " + err.Error())
		}
	}
	return 0, nil
}
