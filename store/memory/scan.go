package memory

import (
	"context"
	"fmt"

	"github.com/keycard-go/keycard/store"
)

var _ store.Scanner = (*Store)(nil)

// Scan calls fn with a copy of every live record, one shard at a time. fn
// runs without any lock held, so it may use the store.
func (s *Store) Scan(ctx context.Context, fn func(store.Entry) error) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("memory store: scan: %w", err)
	}
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("memory store: scan: %w", err)
		}
		for _, e := range s.liveEntries(&s.shards[i]) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// liveEntries copies the live records of sh.
func (s *Store) liveEntries(sh *shard) []store.Entry {
	now := encodeTime(s.now())
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	entries := make([]store.Entry, 0, sh.len())
	for i := range sh.slots {
		if sl := &sh.slots[i]; sl.used() && sl.live(now) {
			rec := new(store.Record)
			sh.copyTo(int32(i), rec)
			entries = append(entries, store.Entry{Key: string(sh.keyOf(int32(i))), Record: rec})
		}
	}
	return entries
}

// CountAnonymous returns how many live records have no user. It removes
// the expired records first, one shard at a time, and is exact when no
// save is in progress.
func (s *Store) CountAnonymous(ctx context.Context) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, fmt.Errorf("memory store: count anonymous: %w", err)
	}
	now := encodeTime(s.now())
	for i := range s.shards {
		s.reapShard(&s.shards[i], now)
	}
	return int(max(s.anonCount.Load(), 0)), nil
}
