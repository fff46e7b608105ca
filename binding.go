package keycard

import (
	"context"
	"net/netip"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// Binding ties a session to the client that created it or last logged in
// to it, as an extra hurdle for a stolen cookie. It is opt-in: addresses
// change legitimately (mobile networks, VPNs), so compare prefixes, not
// whole addresses, and start with BindLog to see how often real users
// trip it. The zero Binding compares nothing.
type Binding struct {
	// IPv4Prefix and IPv6Prefix are how many leading bits of the client
	// address must match, e.g. 24 and 64. Zero does not compare
	// addresses of that family. The client address comes from
	// Manager.ClientIP, so configure TrustedProxies behind a proxy.
	IPv4Prefix int
	IPv6Prefix int

	// UserAgent requires the User-Agent header to match exactly.
	UserAgent bool

	// OnMismatch says what a mismatch does. Every mismatch is reported as
	// an event.BindingMismatch whatever the policy.
	OnMismatch BindingPolicy
}

// BindingPolicy is what a binding mismatch does.
type BindingPolicy int

const (
	// BindLog reports the mismatch and serves the session as usual.
	BindLog BindingPolicy = iota
	// BindReauth keeps the session's data but logs its user out, so the
	// client must authenticate again.
	BindReauth
	// BindDestroy deletes the session; the client starts a fresh one.
	BindDestroy
)

func (b Binding) enabled() bool { return b.IPv4Prefix > 0 || b.IPv6Prefix > 0 || b.UserAgent }

// mismatch returns why the request does not match rec's client, or "".
func (m *Manager) mismatch(s *Session, rec *store.Record) event.Reason {
	b := m.cfg.Binding
	if !b.enabled() || s.r == nil {
		return ""
	}
	if b.UserAgent && userAgent(s.r) != rec.UserAgent {
		return event.ReasonUserAgent
	}
	stored, err := netip.ParseAddr(rec.IP)
	if err != nil {
		return ""
	}
	bits := b.IPv6Prefix
	if stored.Is4() {
		bits = b.IPv4Prefix
	}
	if bits == 0 {
		return ""
	}
	cur := m.ClientIP(s.r)
	p, err := stored.Prefix(bits)
	if err != nil || !cur.IsValid() || !p.Contains(cur) {
		return event.ReasonAddress
	}
	return ""
}

// checkBinding applies the binding policy to a loaded record and reports
// whether the session survives. s.mu must be held.
func (s *Session) checkBinding(ctx context.Context, key string, rec *store.Record, now time.Time) bool {
	why := s.m.mismatch(s, rec)
	if why == "" {
		return true
	}
	ev := event.Event{Kind: event.BindingMismatch, Reason: why, Session: key, UserID: rec.UserID, Request: s.r}
	switch s.m.cfg.Binding.OnMismatch {
	case BindDestroy:
		s.discard(ctx, key, rec, ev, now)
		return false
	case BindReauth:
		s.m.emit(ev)
		if rec.UserID != "" {
			rec.UserID, rec.AuthTime = "", time.Time{}
			s.metaChanged = true
		}
	default:
		s.m.emit(ev)
	}
	return true
}
