package keycard

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// EventKind names what happened to a session.
type EventKind string

// Event kinds.
const (
	// EventCreated: a new session was stored for the first time.
	EventCreated EventKind = "created"
	// EventRenewed: the session moved to a new ID (Renew or Login).
	EventRenewed EventKind = "renewed"
	// EventDestroyed: the session was deleted (Logout, Destroy or a revocation).
	EventDestroyed EventKind = "destroyed"
	// EventExpired: a presented session had passed its idle or absolute deadline.
	EventExpired EventKind = "expired"
	// EventRejected: a presented cookie or stored value was refused; the
	// Reason says why.
	EventRejected EventKind = "rejected"
	// EventConflict: a save met a concurrent change and was retried.
	EventConflict EventKind = "conflict-retried"
	// EventCSRF: a request failed cross-site request forgery checks.
	EventCSRF EventKind = "csrf-rejected"
	// EventBindingMismatch: a session was presented by a client that does
	// not match the one it is bound to (Config.Binding).
	EventBindingMismatch EventKind = "binding-mismatch"
	// EventLoginFailures: an account or address passed its limit of
	// failed logins (package guard).
	EventLoginFailures EventKind = "login-failures"
)

// Event reasons.
const (
	ReasonMalformed   = reasonMalformed // cookie value of the wrong shape
	ReasonBadMAC      = reasonBadMAC    // cookie signature invalid or key unknown (forged, or signed by a removed key)
	ReasonDuplicate   = reasonDuplicate // more than one cookie with the session's name (cookie tossing)
	ReasonUnknown     = "unknown-id"    // authentic cookie, but no live record (expired, revoked or logged out)
	ReasonUndecodable = "undecodable"   // a stored record or value could not be decoded
	ReasonIdle        = "idle-timeout"  // expired by inactivity
	ReasonAbsolute    = "absolute-timeout"
	ReasonRenew       = "renew"
	ReasonRotate      = "rotate" // periodic rotation (Config.RotateEvery)
	ReasonLogin       = "login"
	ReasonLogout      = "logout"
	ReasonDestroy     = "destroy"
	ReasonRevoke      = "revoke"
	ReasonLimit       = "session-limit" // evicted by Config.MaxSessionsPerUser
	ReasonAddress     = "address"       // binding: client address outside the bound prefix
	ReasonUserAgent   = "user-agent"    // binding: a different User-Agent
)

// An Event reports a lifecycle step or a security-relevant refusal. Events
// never carry raw session IDs or keys: sessions are named by the first 16
// hex digits of their hash.
type Event struct {
	Kind   EventKind
	Reason string
	// Session is a prefix of the session's hash, or "".
	Session string
	// UserID is the user the session was bound to, or "".
	UserID string
	// Err holds detail for rejections and failed cleanups, or nil.
	Err error
	// Time is when the event happened.
	Time time.Time
	// Request is the request being served, or nil outside a request.
	Request *http.Request
	// Attrs carries details from companion packages, such as a refresh
	// token family's ID. Never put a secret in it.
	Attrs []slog.Attr
}

// hashPrefixLen is how much of a session hash events and logs show.
const hashPrefixLen = 16

// Emit passes ev to the configured event hook (Config.OnEvent), after
// shortening ev.Session to a hash prefix and setting ev.Time. Packages
// layered on Keycard, such as csrf, report through it, so an application
// sees one stream of events. Never put a raw ID or token in an Event.
func (m *Manager) Emit(ev Event) { m.emit(ev) }

// emit completes ev and hands it to the event hook.
func (m *Manager) emit(ev Event) {
	if len(ev.Session) > hashPrefixLen {
		ev.Session = ev.Session[:hashPrefixLen]
	}
	ev.Time = time.Now()
	m.onEvent(ev)
}

// logEvent is the default event hook: routine steps at Debug, refusals of
// presented credentials at Warn (Info for sessions that merely expired).
func (m *Manager) logEvent(ev Event) {
	level := slog.LevelDebug
	switch {
	case ev.Kind == EventRejected && ev.Reason == ReasonUnknown:
		level = slog.LevelInfo
	case ev.Kind == EventRejected, ev.Kind == EventCSRF, ev.Kind == EventBindingMismatch, ev.Kind == EventLoginFailures:
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if ev.Request != nil {
		ctx = ev.Request.Context()
	}
	if !m.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("event", string(ev.Kind))}
	if ev.Reason != "" {
		attrs = append(attrs, slog.String("reason", ev.Reason))
	}
	if ev.Session != "" {
		attrs = append(attrs, slog.String("session", ev.Session))
	}
	if ev.UserID != "" {
		attrs = append(attrs, slog.String("user", ev.UserID))
	}
	if ev.Request != nil {
		attrs = append(attrs, slog.String("ip", addrString(m.ClientIP(ev.Request))))
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.String("err", ev.Err.Error()))
	}
	attrs = append(attrs, ev.Attrs...)
	m.logger.LogAttrs(ctx, level, "keycard: session "+string(ev.Kind), attrs...)
}
