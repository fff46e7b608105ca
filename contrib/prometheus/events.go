package keycardprom

import (
	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/guard"
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

// Label values that stand for many reasons.
const (
	reasonNone  = "none"  // the event had no reason
	valueOther  = "other" // a kind or reason Keycard does not define
	reasonOther = valueOther
)

// kinds are the event kinds that become label values of their own.
var kinds = map[keycard.EventKind]bool{
	keycard.EventCreated: true, keycard.EventRenewed: true, keycard.EventDestroyed: true,
	keycard.EventExpired: true, keycard.EventRejected: true, keycard.EventConflict: true,
	csrf.EventRejected: true, keycard.EventBindingMismatch: true, guard.EventLimit: true,
	eventRefreshReuse: true,
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

// pair is one kind and reason label pair.
type pair struct {
	kind   keycard.EventKind
	reason keycard.Reason
}

// emitted are the pairs Keycard and its companion packages emit, created
// at zero by New so that rate() and increase() count their first event.
var emitted = []pair{
	{keycard.EventCreated, reasonNone},
	{keycard.EventRenewed, keycard.ReasonLogin}, {keycard.EventRenewed, keycard.ReasonRenew},
	{keycard.EventRenewed, keycard.ReasonRotate},
	{keycard.EventDestroyed, keycard.ReasonLogout}, {keycard.EventDestroyed, keycard.ReasonDestroy},
	{keycard.EventDestroyed, keycard.ReasonRevoke}, {keycard.EventDestroyed, keycard.ReasonLimit},
	{keycard.EventExpired, keycard.ReasonIdle}, {keycard.EventExpired, keycard.ReasonAbsolute},
	{keycard.EventExpired, reasonAccessToken}, {keycard.EventExpired, reasonRefreshToken},
	{keycard.EventRejected, keycard.ReasonMalformed}, {keycard.EventRejected, keycard.ReasonBadMAC},
	{keycard.EventRejected, keycard.ReasonDuplicate}, {keycard.EventRejected, keycard.ReasonUnknown},
	{keycard.EventRejected, keycard.ReasonUndecodable},
	{keycard.EventRejected, reasonAccessToken}, {keycard.EventRejected, reasonRefreshToken},
	{keycard.EventConflict, reasonNone},
	{csrf.EventRejected, csrf.ReasonCrossOrigin}, {csrf.EventRejected, csrf.ReasonMissingToken},
	{csrf.EventRejected, csrf.ReasonNoSecret}, {csrf.EventRejected, csrf.ReasonBadToken},
	{keycard.EventBindingMismatch, keycard.ReasonAddress}, {keycard.EventBindingMismatch, keycard.ReasonUserAgent},
	{keycard.EventRejected, keycard.ReasonRateLimited},
	{keycard.EventRejected, keycard.ReasonNewSessions}, {keycard.EventRejected, keycard.ReasonStoreFull},
	{guard.EventLimit, guard.ReasonLimit},
	{eventRefreshReuse, reasonAfterGrace}, {eventRefreshReuse, reasonStale},
}

// labels returns the bounded label values for ev.
func labels(ev keycard.Event) (kind, reason string) {
	kind = string(ev.Kind)
	if !kinds[ev.Kind] {
		kind = valueOther
	}
	switch {
	case ev.Reason == "":
		reason = reasonNone
	case reasons[ev.Reason]:
		reason = string(ev.Reason)
	default:
		reason = reasonOther
	}
	return kind, reason
}

// OnEvent counts ev in keycard_events_total. Install it as
// keycard.Config.OnEvent; the Manager logs the event itself.
func (m *Metrics) OnEvent(ev keycard.Event) {
	kind, reason := labels(ev)
	m.events.WithLabelValues(kind, reason).Inc()
}
