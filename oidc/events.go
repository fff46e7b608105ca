package oidc

import "github.com/keycard-go/keycard"

// EventRejected is the kind of the Event emitted for a refused sign-in
// callback (ReasonCallback) or a refused logout request (ReasonBackChannel,
// ReasonFrontChannel). Its Err says why; it never holds a token, a code, a
// state or a nonce.
const EventRejected keycard.EventKind = "oidc-rejected"

// EventProviderLogout is the kind of the Event emitted when the provider
// ended sessions through back-channel (ReasonBackChannel) or front-channel
// (ReasonFrontChannel) logout. Its Attrs give the issuer and how many
// sessions ended; each ended session also gets keycard's own
// EventDestroyed with keycard.ReasonRevoke.
const EventProviderLogout keycard.EventKind = "oidc-logout"

// Event reasons used by this package.
const (
	ReasonCallback     keycard.Reason = "callback"      // a sign-in callback was refused
	ReasonBackChannel  keycard.Reason = "back-channel"  // a back-channel logout request
	ReasonFrontChannel keycard.Reason = "front-channel" // a front-channel logout request
)
