package memory

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Sweep removes every expired record and reports how many it removed. The
// store also removes expired records as it is written to, so calling Sweep
// is optional: it returns memory sooner after a burst of sessions ends.
// Sweep locks one shard at a time and stops early, with an error, if ctx is
// done.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, fmt.Errorf("memory store: sweep: %w", err)
	}
	now := s.now()
	n := 0
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("memory store: sweep: %w", err)
		}
		n += s.reapShard(&s.shards[i], now)
	}
	return n, nil
}

// reapShard removes every expired record of sh.
func (s *Store) reapShard(sh *shard, now time.Time) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return s.reapLocked(sh, now, -1)
}

// reserve takes a place under the bound if one is free.
func (s *Store) reserve() bool {
	for {
		n := s.count.Load()
		if n >= s.max {
			return false
		}
		if s.count.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// makeRoom frees a place under the bound for a save that must create a
// record in a full store. It removes every expired record; if none had
// expired, it evicts the record that expires soonest and reports true: the
// evicted record's place is then reserved for the caller. It holds at most
// one shard lock at a time.
func (s *Store) makeRoom(now time.Time) (reserved bool) {
	var victim *shard
	var soonest time.Time
	reaped := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		reaped += s.reapLocked(sh, now, -1)
		if it := sh.queue.next(); it != nil && (victim == nil || it.due().Before(soonest)) {
			victim, soonest = sh, it.due()
		}
		sh.mu.Unlock()
	}
	switch {
	case reaped > 0:
		return false
	case victim == nil:
		// Every place is reserved by saves in progress; let them finish.
		runtime.Gosched()
		return false
	}
	return s.evictFrom(victim)
}

// evictFrom evicts the record of sh that expires soonest, keeping its place
// reserved for the caller, and reports whether sh still had one.
func (s *Store) evictFrom(sh *shard) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	it := sh.queue.next()
	if it == nil {
		return false
	}
	s.unlinkLocked(sh, it)
	s.evictions.Add(1)
	return true
}
