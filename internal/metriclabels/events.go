package metriclabels

import (
	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
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
const eventRefreshReuse keycard.EventKind = "refresh-reuse"

// Values of the token module's reasons (token.Reason*), spelled out so
// that metrics users need not download that module.
const (
	reasonAccessToken  keycard.Reason = "access-token"
	reasonRefreshToken keycard.Reason = "refresh-token"
	reasonAfterGrace   keycard.Reason = "after-grace"
	reasonStale        keycard.Reason = "stale"
)

// kinds are the event kinds that become label values of their own.
var kinds = map[keycard.EventKind]bool{
	keycard.EventCreated: true, keycard.EventRenewed: true, keycard.EventDestroyed: true,
	keycard.EventExpired: true, keycard.EventRejected: true, keycard.EventConflict: true,
	csrf.EventRejected: true, keycard.EventBindingMismatch: true, guard.EventLimit: true,
	eventRefreshReuse: true, keycard.EventImpersonation: true,
}

// reasons are the event reasons that become label values of their own.
var reasons = map[keycard.Reason]bool{
	keycard.ReasonMalformed: true, keycard.ReasonBadMAC: true, keycard.ReasonDuplicate: true,
	keycard.ReasonUnknown: true, keycard.ReasonUndecodable: true, keycard.ReasonIdle: true,
	keycard.ReasonAbsolute: true, keycard.ReasonRenew: true, keycard.ReasonRotate: true,
	keycard.ReasonLogin: true, keycard.ReasonLogout: true, keycard.ReasonDestroy: true,
	keycard.ReasonRevoke: true, keycard.ReasonLimit: true, keycard.ReasonAddress: true,
	keycard.ReasonUserAgent: true, keycard.ReasonRateLimited: true, guard.ReasonLimit: true,
	keycard.ReasonNewSessions: true, keycard.ReasonStoreFull: true,
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
	{string(keycard.EventCreated), None},
	{string(keycard.EventRenewed), string(keycard.ReasonLogin)}, {string(keycard.EventRenewed), string(keycard.ReasonRenew)},
	{string(keycard.EventRenewed), string(keycard.ReasonRotate)},
	{string(keycard.EventDestroyed), string(keycard.ReasonLogout)}, {string(keycard.EventDestroyed), string(keycard.ReasonDestroy)},
	{string(keycard.EventDestroyed), string(keycard.ReasonRevoke)}, {string(keycard.EventDestroyed), string(keycard.ReasonLimit)},
	{string(keycard.EventExpired), string(keycard.ReasonIdle)}, {string(keycard.EventExpired), string(keycard.ReasonAbsolute)},
	{string(keycard.EventExpired), string(reasonAccessToken)}, {string(keycard.EventExpired), string(reasonRefreshToken)},
	{string(keycard.EventRejected), string(keycard.ReasonMalformed)}, {string(keycard.EventRejected), string(keycard.ReasonBadMAC)},
	{string(keycard.EventRejected), string(keycard.ReasonDuplicate)}, {string(keycard.EventRejected), string(keycard.ReasonUnknown)},
	{string(keycard.EventRejected), string(keycard.ReasonUndecodable)},
	{string(keycard.EventRejected), string(reasonAccessToken)}, {string(keycard.EventRejected), string(reasonRefreshToken)},
	{string(keycard.EventConflict), None},
	{string(csrf.EventRejected), string(csrf.ReasonCrossOrigin)}, {string(csrf.EventRejected), string(csrf.ReasonMissingToken)},
	{string(csrf.EventRejected), string(csrf.ReasonNoSecret)}, {string(csrf.EventRejected), string(csrf.ReasonBadToken)},
	{string(keycard.EventBindingMismatch), string(keycard.ReasonAddress)}, {string(keycard.EventBindingMismatch), string(keycard.ReasonUserAgent)},
	{string(keycard.EventRejected), string(keycard.ReasonRateLimited)},
	{string(keycard.EventRejected), string(keycard.ReasonNewSessions)}, {string(keycard.EventRejected), string(keycard.ReasonStoreFull)},
	{string(guard.EventLimit), string(guard.ReasonLimit)},
	{string(eventRefreshReuse), string(reasonAfterGrace)}, {string(eventRefreshReuse), string(reasonStale)},
	{string(keycard.EventImpersonation), string(keycard.ReasonLogin)}, {string(keycard.EventImpersonation), string(keycard.ReasonLogout)},
}

// Emitted returns the pairs Keycard and its companion packages emit, for
// a metrics module to create at zero, so that rate() and increase() count
// their first event.
func Emitted() []Pair {
	return append([]Pair(nil), emitted...)
}

// Of returns the bounded kind and reason label values of ev.
func Of(ev keycard.Event) (kind, reason string) {
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
