package keycard

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// EventKind names what happened to a session. Packages built on Keycard
// define kinds of their own (csrf.EventRejected, guard.EventLimit,
// token.EventRefreshReuse); the Manager logs a kind it does not define at
// Warn.
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
	// EventBindingMismatch: a session was presented by a client that does
	// not match the one it is bound to (Config.Binding).
	EventBindingMismatch EventKind = "binding-mismatch"
)

// Reason says why an event happened: why a session was refused, ended or
// renewed. Packages built on Keycard define their own.
type Reason string

// Event reasons.
const (
	ReasonMalformed   Reason = "malformed"        // cookie value of the wrong shape
	ReasonBadMAC      Reason = "bad-mac"          // cookie signature invalid or key unknown (forged, or signed by a removed key)
	ReasonDuplicate   Reason = "duplicate-cookie" // more than one cookie with the session's name (cookie tossing)
	ReasonUnknown     Reason = "unknown-id"       // authentic cookie, but no live record (expired, revoked or logged out)
	ReasonRateLimited Reason = "rate-limited"     // the client address passed Config.MaxRejectsPerMinute
	ReasonUndecodable Reason = "undecodable"      // a stored record or value could not be decoded
	ReasonIdle        Reason = "idle-timeout"     // expired by inactivity
	ReasonAbsolute    Reason = "absolute-timeout"
	ReasonRenew       Reason = "renew"
	ReasonRotate      Reason = "rotate" // periodic rotation (Config.RotateEvery)
	ReasonLogin       Reason = "login"
	ReasonLogout      Reason = "logout"
	ReasonDestroy     Reason = "destroy"
	ReasonRevoke      Reason = "revoke"
	ReasonLimit       Reason = "session-limit" // evicted by Config.MaxSessionsPerUser
	ReasonAddress     Reason = "address"       // binding: client address outside the bound prefix
	ReasonUserAgent   Reason = "user-agent"    // binding: a different User-Agent
	ReasonNewSessions Reason = "new-sessions"  // a client network passed Visitors.PerMinute
	ReasonStoreFull   Reason = "store-full"    // a bounded store refused a new anonymous session (store.ErrFull)
)

// An Event reports a lifecycle step or a security-relevant refusal. Events
// never carry raw session IDs or keys: sessions are named by the first 16
// hex digits of their hash.
type Event struct {
	Kind   EventKind
	Reason Reason
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

// Emit logs ev and passes it to Config.OnEvent, after shortening
// ev.Session to a hash prefix and setting ev.Time. Packages
// layered on Keycard, such as csrf, report through it, so an application
// sees one stream of events. Never put a raw ID or token in an Event.
func (m *Manager) Emit(ev Event) { m.emit(ev) }

// emit completes ev, logs it and hands it to the event hook.
func (m *Manager) emit(ev Event) {
	if len(ev.Session) > hashPrefixLen {
		ev.Session = ev.Session[:hashPrefixLen]
	}
	ev.Time = time.Now().UTC()
	m.logEvent(ev)
	if m.cfg.OnEvent != nil {
		m.cfg.OnEvent(ev)
	}
}

// logEvent logs ev to Config.Logger; Config.Logger's doc says at which
// levels.
func (m *Manager) logEvent(ev Event) {
	level := slog.LevelWarn
	switch {
	case ev.Kind == EventRejected && ev.Reason == ReasonUnknown:
		level = slog.LevelInfo
	case ev.Kind == EventCreated, ev.Kind == EventRenewed, ev.Kind == EventDestroyed, ev.Kind == EventExpired, ev.Kind == EventConflict:
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if ev.Request != nil {
		ctx = ev.Request.Context()
	}
	if !m.cfg.Logger.Enabled(ctx, level) {
		return
	}
	var suppressed int
	if level >= slog.LevelWarn {
		// A flood of forged cookies must not become a flood of log lines.
		var ok bool
		if ok, suppressed = m.warnings.allow(ev.Kind, ev.Reason, time.Now()); !ok {
			return
		}
	}
	attrs := []slog.Attr{slog.String("event", string(ev.Kind))}
	if ev.Reason != "" {
		attrs = append(attrs, slog.String("reason", string(ev.Reason)))
	}
	if ev.Session != "" {
		attrs = append(attrs, slog.String("session", ev.Session))
	}
	if ev.UserID != "" {
		attrs = append(attrs, slog.String("user", ev.UserID))
	}
	if ev.Request != nil {
		attrs = append(attrs, slog.String("ip", addrString(m.ClientIP(ev.Request))),
			slog.String("ua", userAgent(ev.Request)))
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.String("err", ev.Err.Error()))
	}
	attrs = append(attrs, ev.Attrs...)
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed_before", suppressed))
	}
	m.cfg.Logger.LogAttrs(ctx, level, "keycard: session "+string(ev.Kind), attrs...)
}

// logBudget rate-limits the default hook's warnings, per kind and reason,
// so that a flood of one refusal (forged cookies) neither floods the log
// nor hides the others: a burst of warnBurst, then warnRate per second.
// Warnings over budget are counted, and the next one logged says how many
// were dropped.
type logBudget struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens     float64
	last       time.Time
	suppressed int
}

const (
	warnRate  = 10
	warnBurst = 50
	// maxBuckets bounds the kinds and reasons tracked; any beyond share one.
	maxBuckets = 64
)

// allow reports whether a warning about kind and reason may be logged now,
// and how many like it were suppressed since the last one that was.
func (b *logBudget) allow(kind EventKind, reason Reason, now time.Time) (bool, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buckets == nil {
		b.buckets = make(map[string]*bucket)
	}
	key := string(kind) + "/" + string(reason)
	k, ok := b.buckets[key]
	if !ok {
		if len(b.buckets) >= maxBuckets {
			key = "other"
		}
		if k, ok = b.buckets[key]; !ok {
			k = &bucket{tokens: warnBurst, last: now}
			b.buckets[key] = k
		}
	}
	k.tokens = min(warnBurst, k.tokens+now.Sub(k.last).Seconds()*warnRate)
	k.last = now
	if k.tokens < 1 {
		k.suppressed++
		return false, 0
	}
	k.tokens--
	n := k.suppressed
	k.suppressed = 0
	return true, n
}
