package memory

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
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
	now := encodeTime(s.now())
	n := 0
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("memory store: sweep: %w", err)
		}
		n += s.reapShard(&s.shards[i], now)
	}
	s.compactUsers()
	return n, nil
}

// reapShard removes every expired record of sh.
func (s *Store) reapShard(sh *shard, now int64) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := s.reapLocked(sh, now, -1)
	sh.tidy()
	return n
}

// reserve takes a place under bound in count if one is free.
func reserve(count *atomic.Int64, bound int64) bool {
	for {
		n := count.Load()
		if n >= bound {
			return false
		}
		if count.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// makeRoom frees a place for a save that must create a record, anonymous
// or not, in a store at one of its bounds. It removes every expired
// record; if none had expired, it evicts the anonymous record that
// expires soonest, or, for a signed-in record only, the signed-in record
// that expires soonest. It reports false when only signed-in records could
// make room for an anonymous one: the save must be refused. It holds at
// most one shard lock at a time; the caller tries again, and may find the
// place taken by a concurrent save, which only makes it loop.
func (s *Store) makeRoom(now time.Time, anon bool) bool {
	var anonVictim, victim *shard
	var anonSoonest, soonest int64
	reaped := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		reaped += s.reapLocked(sh, encodeTime(now), -1)
		sh.tidy()
		if i := sh.anon.next(); i >= 0 && (anonVictim == nil || sh.slots[i].due() < anonSoonest) {
			anonVictim, anonSoonest = sh, sh.slots[i].due()
		}
		if i := sh.queue.next(); i >= 0 && (victim == nil || sh.slots[i].due() < soonest) {
			victim, soonest = sh, sh.slots[i].due()
		}
		sh.mu.Unlock()
	}
	switch {
	case reaped > 0:
	case anonVictim != nil:
		s.evictFrom(anonVictim, true, now)
	case anon && s.anonCount.Load() > 0:
		// Every anonymous place is reserved by saves in progress; let
		// them finish.
		runtime.Gosched()
	case anon:
		return false
	case victim != nil:
		s.evictFrom(victim, false, now)
	default:
		runtime.Gosched() // every place is reserved by saves in progress
	}
	return true
}

// evictFrom evicts the record of sh that expires soonest, from its
// anonymous queue or its signed-in one, and warns about it.
func (s *Store) evictFrom(sh *shard, anon bool, now time.Time) {
	sh.mu.Lock()
	q := &sh.queue
	if anon {
		q = &sh.anon
	}
	i := q.next()
	if i >= 0 {
		s.removeLocked(sh, i)
		s.evictions.Add(1)
		sh.tidy()
	}
	sh.mu.Unlock()
	switch {
	case i < 0:
	case anon:
		s.warn.warn("evicted anonymous sessions to stay within MaxAnonymous or MaxSessions", now)
	default:
		s.warn.warn("evicted signed-in sessions to stay within MaxSessions; raise it", now)
	}
}
