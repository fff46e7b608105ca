package token

import "errors"

var (
	// ErrInvalidToken is returned, wrapped, by Verify and VerifyStrict for
	// every access token they refuse: malformed, oversized, forged, signed
	// by an unknown or retired key, of the wrong type, expired, not yet
	// valid, for another issuer or audience, or (VerifyStrict) whose
	// session is gone. The wrapping error's text says which, for logs; it
	// must never reach the client, and Middleware sends none of it.
	ErrInvalidToken = errors.New("token: invalid access token")

	// ErrInvalidGrant is returned, wrapped, by Refresh for every refresh
	// token it refuses: malformed, forged, unknown, rotated away, expired,
	// reused, or of a session that was logged out or revoked. Callers map
	// it to the OAuth error "invalid_grant" and say nothing more. A store
	// failure is not ErrInvalidGrant: the client keeps its token and may
	// retry.
	ErrInvalidGrant = errors.New("token: invalid grant")
)

// refusal is an ErrInvalidToken or ErrInvalidGrant with a detail for logs.
// Refusals without a cause are preallocated, so refusing costs nothing.
type refusal struct {
	sentinel error
	reason   string
	cause    error
}

func (e *refusal) Error() string {
	s := e.sentinel.Error() + ": " + e.reason
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *refusal) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

func invalidToken(reason string) *refusal { return &refusal{sentinel: ErrInvalidToken, reason: reason} }
func invalidGrant(reason string) *refusal { return &refusal{sentinel: ErrInvalidGrant, reason: reason} }

// with returns a copy of r with a cause.
func (e *refusal) with(cause error) error {
	return &refusal{sentinel: e.sentinel, reason: e.reason, cause: cause}
}

// Access-token refusals.
var (
	errTooLarge      = invalidToken("longer than MaxTokenSize")
	errShape         = invalidToken("not a compact JWS of base64url parts")
	errHeader        = invalidToken("protected header is not one this issuer's keys produce")
	errParse         = invalidToken("unparsable")
	errSignature     = invalidToken("signature does not verify")
	errClaims        = invalidToken("claims missing or malformed")
	errIssuer        = invalidToken("wrong issuer")
	errAudience      = invalidToken("audience does not include this service")
	errExpired       = invalidToken("expired")
	errNotYetValid   = invalidToken("not valid yet")
	errIssuedFuture  = invalidToken("issued in the future")
	errLifetime      = invalidToken("lifetime longer than AccessTTL")
	errSessionGone   = invalidToken("session logged out, revoked or expired")
	errSessionUser   = invalidToken("session bound to another user")
	errBearerMissing = invalidToken("empty bearer token, or several Authorization headers")
)

// Refresh-token refusals.
var (
	errRefreshShape   = invalidGrant("malformed refresh token")
	errRefreshMAC     = invalidGrant("refresh token not issued by this issuer")
	errRefreshSession = invalidGrant("session logged out, revoked or expired")
	errRefreshNone    = invalidGrant("session has no refresh family")
	errRefreshFamily  = invalidGrant("refresh family replaced by a later Issue")
	errRefreshIdle    = invalidGrant("refresh family idle too long")
	errRefreshMax     = invalidGrant("refresh family past its lifetime")
	errRefreshReuse   = invalidGrant("refresh token reused: session destroyed")
	errRefreshKey     = invalidGrant("successor does not match: RefreshKey changed?")
)
