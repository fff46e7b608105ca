// Package event is the vocabulary of Keycard's events: what happened to a
// session (a Kind), why (a Reason), and the Event a keycard.Manager hands
// to its Config.OnEvent hook and logs. It holds no behaviour, so that the
// packages that emit events (the Manager, csrf, guard, token, oidc) and
// those that count them (metrics exporters) share one set of names.
//
// Packages built on Keycard define kinds and reasons of their own, of
// these types (csrf.EventRejected, guard.EventLimit,
// token.EventRefreshReuse); a consumer that meets a kind or reason it does
// not know should treat it as "other".
package event

import (
	"log/slog"
	"net/http"
	"time"
)

// Kind names what happened to a session.
type Kind string

// The kinds a keycard.Manager emits.
const (
	// Created: a new session was stored for the first time.
	Created Kind = "created"
	// Renewed: the session moved to a new ID (Renew, Login or a periodic
	// rotation; the Reason says which).
	Renewed Kind = "renewed"
	// Destroyed: the session was deleted (Logout, Destroy, a revocation or
	// MaxSessionsPerUser).
	Destroyed Kind = "destroyed"
	// Expired: a presented session had passed its idle or absolute deadline.
	Expired Kind = "expired"
	// Rejected: a presented cookie or a stored value was refused, or a new
	// session was; the Reason says why.
	Rejected Kind = "rejected"
	// Conflict: a save met a concurrent change and was retried.
	Conflict Kind = "conflict-retried"
	// BindingMismatch: a session was presented by a client that does not
	// match the one it is bound to (Config.Binding).
	BindingMismatch Kind = "binding-mismatch"
	// Impersonation: an impersonation started (ReasonLogin) or ended
	// (ReasonLogout); the UserID is the impersonated user, and the Attrs
	// name the actor.
	Impersonation Kind = "impersonation"
)

// Reason says why an event happened: why a session was refused, ended or
// renewed.
type Reason string

// The reasons a keycard.Manager gives.
const (
	ReasonMalformed   Reason = "malformed"        // cookie value of the wrong shape
	ReasonBadMAC      Reason = "bad-mac"          // cookie signature invalid or key unknown (forged, or signed by a removed key)
	ReasonDuplicate   Reason = "duplicate-cookie" // more than one cookie with the session's name (cookie tossing)
	ReasonUnknown     Reason = "unknown-id"       // authentic cookie, but no live record (expired, revoked or logged out)
	ReasonRateLimited Reason = "rate-limited"     // the client address passed Config.MaxRejectsPerMinute
	ReasonUndecodable Reason = "undecodable"      // a stored record or value could not be decoded
	ReasonIdle        Reason = "idle-timeout"     // expired by inactivity
	ReasonAbsolute    Reason = "absolute-timeout" // expired at the absolute deadline
	ReasonRenew       Reason = "renew"            // Manager.Renew
	ReasonRotate      Reason = "rotate"           // periodic rotation (Config.RotateEvery)
	ReasonLogin       Reason = "login"            // Manager.Login, or an impersonation's start
	ReasonLogout      Reason = "logout"           // Manager.Logout, or an impersonation's end
	ReasonDestroy     Reason = "destroy"          // Manager.Destroy
	ReasonRevoke      Reason = "revoke"           // Manager.Revoke, RevokeUser or RevokeOthers
	ReasonLimit       Reason = "session-limit"    // evicted by Config.MaxSessionsPerUser
	ReasonAddress     Reason = "address"          // binding: client address outside the bound prefix
	ReasonUserAgent   Reason = "user-agent"       // binding: a different User-Agent
	ReasonNewSessions Reason = "new-sessions"     // a client network passed Visitors.PerMinute
	ReasonStoreFull   Reason = "store-full"       // a bounded store refused a new anonymous session (store.ErrFull)
)

// An Event reports a lifecycle step or a security-relevant refusal. Events
// never carry raw session IDs or keys: sessions are named by the first 16
// hex digits of their hash.
type Event struct {
	Kind   Kind
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
