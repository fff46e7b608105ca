package oidc

import "github.com/keycard-go/keycard/event"

// EventRejected is the kind of the Event emitted for a refused sign-in
// callback (ReasonCallback) or a refused logout request (ReasonBackChannel,
// ReasonFrontChannel). Its Err says why; it never holds a token, a code, a
// state or a nonce.
const EventRejected event.Kind = "oidc-rejected"

// EventProviderLogout is the kind of the Event emitted when the provider
// ended sessions through back-channel (ReasonBackChannel) or front-channel
// (ReasonFrontChannel) logout. Its Attrs give the issuer and how many
// sessions ended; each ended session also gets keycard's own
// event.Destroyed with event.ReasonRevoke.
const EventProviderLogout event.Kind = "oidc-logout"

// Event reasons used by this package.
const (
	ReasonCallback     event.Reason = "callback"      // a sign-in callback was refused
	ReasonBackChannel  event.Reason = "back-channel"  // a back-channel logout request
	ReasonFrontChannel event.Reason = "front-channel" // a front-channel logout request
)
