package metriclabels

import (
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/guard"
)

// Label values that stand for many kinds or reasons. A kind or reason
// Keycard and its companion packages (csrf, guard, token) do not define
// becomes Other, and an event without a reason None, so the number of
// series stays bounded whatever an application emits.
const (
	None  = "none"  // the event had no reason
	Other = "other" // a kind or reason Keycard does not define
)

// eventRefreshReuse is token.EventRefreshReuse, spelled out so that
// metrics users need not download the token module.
const eventRefreshReuse event.Kind = "refresh-reuse"

// Values of the token module's reasons (token.Reason*), spelled out so
// that metrics users need not download that module.
const (
	reasonAccessToken  event.Reason = "access-token"
	reasonRefreshToken event.Reason = "refresh-token"
	reasonAfterGrace   event.Reason = "after-grace"
	reasonStale        event.Reason = "stale"
)

// kinds are the event kinds that become label values of their own.
var kinds = map[event.Kind]bool{
	event.Created: true, event.Renewed: true, event.Destroyed: true,
	event.Expired: true, event.Rejected: true, event.Conflict: true,
	csrf.EventRejected: true, event.BindingMismatch: true, guard.EventLimit: true,
	eventRefreshReuse: true, event.Impersonation: true,
}

// reasons are the event reasons that become label values of their own.
var reasons = map[event.Reason]bool{
	event.ReasonMalformed: true, event.ReasonBadMAC: true, event.ReasonDuplicate: true,
	event.ReasonUnknown: true, event.ReasonUndecodable: true, event.ReasonIdle: true,
	event.ReasonAbsolute: true, event.ReasonRenew: true, event.ReasonRotate: true,
	event.ReasonLogin: true, event.ReasonLogout: true, event.ReasonDestroy: true,
	event.ReasonRevoke: true, event.ReasonLimit: true, event.ReasonAddress: true,
	event.ReasonUserAgent: true, event.ReasonRateLimited: true, guard.ReasonLimit: true,
	event.ReasonNewSessions: true, event.ReasonStoreFull: true,
	csrf.ReasonCrossOrigin: true, csrf.ReasonMissingToken: true, csrf.ReasonNoSecret: true,
	csrf.ReasonBadToken: true,
	reasonAccessToken:   true, reasonRefreshToken: true, reasonAfterGrace: true, reasonStale: true,
}

// A Pair is one kind and reason label pair.
type Pair struct {
	Kind, Reason string
}

// emitted are the pairs Keycard and its companion packages emit.
var emitted = []Pair{
	{string(event.Created), None},
	{string(event.Renewed), string(event.ReasonLogin)}, {string(event.Renewed), string(event.ReasonRenew)},
	{string(event.Renewed), string(event.ReasonRotate)},
	{string(event.Destroyed), string(event.ReasonLogout)}, {string(event.Destroyed), string(event.ReasonDestroy)},
	{string(event.Destroyed), string(event.ReasonRevoke)}, {string(event.Destroyed), string(event.ReasonLimit)},
	{string(event.Expired), string(event.ReasonIdle)}, {string(event.Expired), string(event.ReasonAbsolute)},
	{string(event.Expired), string(reasonAccessToken)}, {string(event.Expired), string(reasonRefreshToken)},
	{string(event.Rejected), string(event.ReasonMalformed)}, {string(event.Rejected), string(event.ReasonBadMAC)},
	{string(event.Rejected), string(event.ReasonDuplicate)}, {string(event.Rejected), string(event.ReasonUnknown)},
	{string(event.Rejected), string(event.ReasonUndecodable)},
	{string(event.Rejected), string(reasonAccessToken)}, {string(event.Rejected), string(reasonRefreshToken)},
	{string(event.Conflict), None},
	{string(csrf.EventRejected), string(csrf.ReasonCrossOrigin)}, {string(csrf.EventRejected), string(csrf.ReasonMissingToken)},
	{string(csrf.EventRejected), string(csrf.ReasonNoSecret)}, {string(csrf.EventRejected), string(csrf.ReasonBadToken)},
	{string(event.BindingMismatch), string(event.ReasonAddress)}, {string(event.BindingMismatch), string(event.ReasonUserAgent)},
	{string(event.Rejected), string(event.ReasonRateLimited)},
	{string(event.Rejected), string(event.ReasonNewSessions)}, {string(event.Rejected), string(event.ReasonStoreFull)},
	{string(guard.EventLimit), string(guard.ReasonLimit)},
	{string(eventRefreshReuse), string(reasonAfterGrace)}, {string(eventRefreshReuse), string(reasonStale)},
	{string(event.Impersonation), string(event.ReasonLogin)}, {string(event.Impersonation), string(event.ReasonLogout)},
}

// Emitted returns the pairs Keycard and its companion packages emit, for
// a metrics module to create at zero, so that rate() and increase() count
// their first event.
func Emitted() []Pair {
	return append([]Pair(nil), emitted...)
}

// Of returns the bounded kind and reason label values of ev.
func Of(ev event.Event) (kind, reason string) {
	kind = string(ev.Kind)
	if !kinds[ev.Kind] {
		kind = Other
	}
	switch {
	case ev.Reason == "":
		reason = None
	case reasons[ev.Reason]:
		reason = string(ev.Reason)
	default:
		reason = Other
	}
	return kind, reason
}
