package keycard

import (
	"net/netip"
	"sync"
	"time"

	"github.com/keycard-go/keycard/event"
)

// limitWindow is the window over which the per-client limits count
// (Config.MaxRejectsPerMinute, Visitors.PerMinute).
const limitWindow = time.Minute

// maxTracked bounds how many clients a limiter tracks; past it, entries
// whose window ended are dropped, then all of them.
const maxTracked = 100_000

// minuteLimit counts events per client (an address or a prefix) in
// one-minute windows, so that one client past its limit is slowed down
// (429) while everyone else is served.
type minuteLimit struct {
	limit int
	mu    sync.Mutex
	keys  map[netip.Prefix]*windowCount
}

type windowCount struct {
	start time.Time
	n     int
}

// newMinuteLimit returns a limiter for limit events per minute, or nil
// (which limits nothing) if limit is not positive.
func newMinuteLimit(limit int) *minuteLimit {
	if limit <= 0 {
		return nil
	}
	return &minuteLimit{limit: limit, keys: make(map[netip.Prefix]*windowCount)}
}

// blocked reports whether p has reached its limit in the current window.
func (l *minuteLimit) blocked(p netip.Prefix, now time.Time) bool {
	if l == nil || !p.IsValid() {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.keys[p]
	return ok && now.Sub(c.start) < limitWindow && c.n >= l.limit
}

// add counts one event of p and returns how many p has had in the current
// window, this one included; 0 for an invalid p, which is never counted.
func (l *minuteLimit) add(p netip.Prefix, now time.Time) int {
	if l == nil || !p.IsValid() {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.keys[p]
	if !ok || now.Sub(c.start) >= limitWindow {
		if !ok && len(l.keys) >= maxTracked {
			l.prune(now)
		}
		c = &windowCount{start: now}
		l.keys[p] = c
	}
	c.n++
	return c.n
}

// prune drops ended windows, or every entry if none had ended. l.mu must be
// held.
func (l *minuteLimit) prune(now time.Time) {
	for p, c := range l.keys {
		if now.Sub(c.start) >= limitWindow {
			delete(l.keys, p)
		}
	}
	if len(l.keys) >= maxTracked {
		clear(l.keys)
	}
}

// hostOf returns the single-address prefix of a, the key of the
// per-address reject limit.
func hostOf(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen())
}

// networkOf returns the network a client address stands for when counting
// what one client does: its /32 for IPv4, its /64 for IPv6, where one
// subscriber typically holds the whole /64.
func networkOf(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// refuse reports a presented token refused for reason (key names the
// session it named, if any) and counts it against the client's address,
// reporting the address once it reaches Config.MaxRejectsPerMinute.
func (s *Session) refuse(reason event.Reason, key string) {
	s.m.emit(event.Event{Kind: event.Rejected, Reason: reason, Session: key, Request: s.r})
	if s.r != nil && s.m.rejects != nil && s.m.rejects.add(hostOf(s.m.ClientIP(s.r)), time.Now()) == s.m.rejects.limit {
		s.m.emit(event.Event{Kind: event.Rejected, Reason: event.ReasonRateLimited, Request: s.r})
	}
}
