package keycard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// Visitors bounds what anonymous sessions cost: those stored without a
// user ID, for visitors who have not logged in. Keycard stores nothing for
// a visitor who stored nothing, so these bounds only touch visitors who
// did (a cart, a flash message); they never apply to signed-in sessions.
// The zero Visitors adds no bound to the store's own (the memory store
// keeps anonymous sessions within its MaxAnonymous).
type Visitors struct {
	// PerMinute, if positive, limits how many anonymous sessions one
	// client network (its /32 for IPv4, its /64 for IPv6) may create per
	// minute. Past it, a request that would store a new anonymous session
	// fails with ErrTooManySessions, which the default ErrorHandler
	// answers 429 Too Many Requests with Retry-After, and one
	// event.Rejected with event.ReasonNewSessions is reported per network and
	// minute. Configure TrustedProxies behind a proxy, or every client
	// shares the proxy's address. The default is 0: no limit.
	PerMinute int

	// Max, if positive, bounds how many anonymous sessions the store may
	// hold, for persistent stores, which have no bound of their own: past
	// it a new anonymous session is refused as by a full store (503,
	// event.ReasonStoreFull), and signed-in sessions are never touched. It
	// needs a store that can count them (store.Counter: the memory and
	// SQL stores). Each instance counts at most once a second, so
	// instances together may pass the bound by what they create in that
	// second. The default is 0: no bound beyond the store's own.
	Max int

	// Idle is the idle timeout of anonymous sessions, in place of
	// Timeouts.Idle, so that a persistent store gives their space back
	// sooner: records expire by it in every store, and a Redis server
	// with maxmemory-policy volatile-ttl evicts them before signed-in
	// sessions. It is at most Timeouts.Idle. The default is Timeouts.Idle.
	Idle time.Duration
}

// ErrTooManySessions is returned, wrapped, when a request would store a new
// anonymous session past Visitors.PerMinute for its client network. The
// default ErrorHandler answers it with 429 Too Many Requests.
var ErrTooManySessions = errors.New("keycard: too many new sessions from this network")

// admitVisitor counts s, if it is a new anonymous session about to be
// stored, against its client's network, and refuses it past
// Visitors.PerMinute. Sessions opened outside a request (Manager.Open)
// have no client and are not counted. s.mu must be held.
func (s *Session) admitVisitor() error {
	if s.r == nil || !s.isNew || s.rec.UserID != "" || s.loadErr != nil {
		return nil
	}
	if err := s.m.anonymous.admit(s); err != nil {
		return err
	}
	if s.m.visitors == nil {
		return nil
	}
	n := s.m.visitors.add(networkOf(s.m.ClientIP(s.r)), time.Now())
	if n <= s.m.visitors.limit {
		return nil
	}
	if n == s.m.visitors.limit+1 {
		s.m.emit(event.Event{Kind: event.Rejected, Reason: event.ReasonNewSessions, Request: s.r})
	}
	return fmt.Errorf("keycard: save session: %w", ErrTooManySessions)
}

// anonymousCount is the count of anonymous sessions in the store that
// Visitors.Max bounds, refreshed at most once a second.
type anonymousCount struct {
	mu   sync.Mutex
	max  int
	n    int
	at   time.Time
	from store.Counter
}

// admit refuses the new anonymous session s with store.ErrFull once the
// store holds Visitors.Max of them, and counts it otherwise. A failure to
// count lets the session through: its save meets the same store.
func (c *anonymousCount) admit(s *Session) error {
	if c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.at) >= time.Second {
		// Bounded like the request's store calls, since every new
		// anonymous session waits for this count.
		ctx, cancel := context.WithTimeout(s.ctx, cmp.Or(max(s.m.cfg.StoreTimeout, 0), defaultStoreTimeout))
		n, err := c.from.CountAnonymous(ctx)
		cancel()
		if err != nil {
			return nil
		}
		c.n, c.at = n, now
	}
	if c.n >= c.max {
		s.m.emit(event.Event{Kind: event.Rejected, Reason: event.ReasonStoreFull, Request: s.r})
		return fmt.Errorf("keycard: save session: Visitors.Max anonymous sessions stored: %w", store.ErrFull)
	}
	c.n++
	return nil
}

// storeFull reports a new anonymous session refused by a bounded store
// (store.ErrFull) as an event, so that it is logged within the warning
// budget and counted.
func (s *Session) storeFull(err error) {
	if errors.Is(err, store.ErrFull) {
		s.m.emit(event.Event{Kind: event.Rejected, Reason: event.ReasonStoreFull, Request: s.r})
	}
}

// idle returns the idle timeout of s (see idleOf).
func (s *Session) idle() time.Duration {
	return s.m.idleOf(&s.rec)
}

// idleOf returns the idle timeout of the session stored as rec:
// Visitors.Idle while it is anonymous, else its Timeouts' (RememberMe's
// when persistent).
func (m *Manager) idleOf(rec *store.Record) time.Duration {
	if rec.UserID == "" && m.cfg.Visitors.Idle > 0 {
		return m.cfg.Visitors.Idle
	}
	return m.timeouts(rec.Persistent).Idle
}
