package keycard

import (
	"net/netip"
	"sync"
	"time"
)

// rejectWindow is the window over which Config.MaxRejectsPerMinute counts.
const rejectWindow = time.Minute

// maxTracked bounds how many client addresses the reject limiter tracks;
// past it, entries whose window ended are dropped, then the oldest.
const maxTracked = 100_000

// rejectLimiter counts refused session tokens per client address, so that
// one address guessing or replaying tokens is slowed down (429) while
// everyone else is served.
type rejectLimiter struct {
	limit int
	mu    sync.Mutex
	addrs map[netip.Addr]*rejectCount
}

type rejectCount struct {
	start time.Time
	n     int
}

func newRejectLimiter(limit int) *rejectLimiter {
	if limit <= 0 {
		return nil
	}
	return &rejectLimiter{limit: limit, addrs: make(map[netip.Addr]*rejectCount)}
}

// blocked reports whether a has passed its limit in the current window.
func (l *rejectLimiter) blocked(a netip.Addr, now time.Time) bool {
	if l == nil || !a.IsValid() {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.addrs[a]
	return ok && now.Sub(c.start) < rejectWindow && c.n >= l.limit
}

// add counts one refused token from a and reports whether that reached the
// limit just now.
func (l *rejectLimiter) add(a netip.Addr, now time.Time) (reached bool) {
	if l == nil || !a.IsValid() {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.addrs[a]
	if !ok || now.Sub(c.start) >= rejectWindow {
		if !ok && len(l.addrs) >= maxTracked {
			l.prune(now)
		}
		c = &rejectCount{start: now}
		l.addrs[a] = c
	}
	c.n++
	return c.n == l.limit
}

// prune drops ended windows, or every entry if none had ended. l.mu must be
// held.
func (l *rejectLimiter) prune(now time.Time) {
	for a, c := range l.addrs {
		if now.Sub(c.start) >= rejectWindow {
			delete(l.addrs, a)
		}
	}
	if len(l.addrs) >= maxTracked {
		clear(l.addrs)
	}
}

// refuse reports a presented token refused for reason (key names the
// session it named, if any) and counts it against the client's address,
// reporting the address once it passes Config.MaxRejectsPerMinute.
func (s *Session) refuse(reason Reason, key string) {
	s.m.emit(Event{Kind: EventRejected, Reason: reason, Session: key, Request: s.r})
	if s.r != nil && s.m.rejects != nil && s.m.rejects.add(s.m.ClientIP(s.r), time.Now()) {
		s.m.emit(Event{Kind: EventRejected, Reason: ReasonRateLimited, Request: s.r})
	}
}
