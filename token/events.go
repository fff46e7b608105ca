package token

import "github.com/keycard-go/keycard/event"

// EventRefreshReuse reports that a refresh token was presented again after
// it had been rotated away (outside the grace window): one of two parties
// holding it is not the legitimate client. The session, with every token
// of it, has been destroyed. The event names the session by hash prefix,
// its user, and the refresh family's ID in Attrs; it never carries token
// material.
const EventRefreshReuse event.Kind = "refresh-reuse"

// Event reasons used by this package, with event.Rejected,
// event.Expired and EventRefreshReuse. The event's Err says more,
// without token material.
const (
	ReasonAccessToken  event.Reason = "access-token"  // an access token was refused
	ReasonRefreshToken event.Reason = "refresh-token" // a refresh token was refused
	ReasonAfterGrace   event.Reason = "after-grace"   // the token rotated away last was presented after the grace window
	ReasonStale        event.Reason = "stale"         // a token rotated away earlier was presented
)
