package oidc

import (
	"errors"
	"fmt"
)

var (
	// ErrState is returned, wrapped, by Callback when no sign-in started by
	// this browser matches the callback's state: unknown, already used
	// (every state works once), older than Config.FlowTimeout, started by
	// another Client, or started in another browser. Ask the user to sign
	// in again.
	ErrState = errors.New("oidc: no matching sign-in in progress")

	// ErrProvider is returned, wrapped in a *ProviderError, by Callback
	// when the provider answered the authorization request with an error,
	// such as "access_denied" when the user declined.
	ErrProvider = errors.New("oidc: the provider refused the sign-in")

	// ErrExchange is returned, wrapped, by Callback when the provider's
	// token endpoint refused the authorization code (used already,
	// expired, or issued for another PKCE verifier) or could not be
	// reached.
	ErrExchange = errors.New("oidc: code exchange failed")

	// ErrIDToken is returned, wrapped, by Callback for an ID token it
	// refuses: missing, malformed, not signed by the provider's keys, of
	// another issuer or audience, expired, issued in the future, with
	// another nonce, or whose at_hash does not match the access token.
	// The wrapping error's text says which, for logs; it never holds a
	// token.
	ErrIDToken = errors.New("oidc: invalid ID token")

	// ErrAuthLevel is returned, wrapped, by Callback when the sign-in was
	// asked for a recent or a stronger authentication (AuthOptions.MaxAge,
	// AuthOptions.ACRValues) and the ID token does not show one: an
	// auth_time missing or too old, or an acr not among those requested.
	ErrAuthLevel = errors.New("oidc: authentication too old or too weak")

	// ErrLogoutToken is the error of a refused provider logout request, in
	// the EventRejected it emits: a back-channel logout token that fails a
	// check, or a front-channel request without one iss of this issuer and
	// one sid. The handlers answer it with 400.
	ErrLogoutToken = errors.New("oidc: invalid logout token")
)

// A ProviderError is the error the provider returned to the callback
// (RFC 6749 section 4.1.2.1). It wraps ErrProvider. Description is the
// provider's text, for logs; do not show it to users unescaped.
type ProviderError struct {
	Code        string // "access_denied", "login_required", ...
	Description string
}

// Error returns the provider's error code and description.
func (e *ProviderError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("%v: %q", ErrProvider, e.Code)
	}
	return fmt.Sprintf("%v: %q (%q)", ErrProvider, e.Code, e.Description)
}

// Unwrap returns ErrProvider.
func (e *ProviderError) Unwrap() error { return ErrProvider }

// refuse returns sentinel with a detail for logs.
func refuse(sentinel error, detail string) error {
	return fmt.Errorf("%w: %s", sentinel, detail)
}

// refuseCause returns sentinel with a detail and its cause.
func refuseCause(sentinel error, detail string, cause error) error {
	return fmt.Errorf("%w: %s: %w", sentinel, detail, cause)
}
