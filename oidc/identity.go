package oidc

import (
	"encoding/json"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/keycard-go/keycard"
)

// Session keys of this package, all in keycard's login-scoped reserved
// namespace (keycard.LoginScoped): Login and Renew delete them, and
// periodic rotation keeps them.
const (
	flowsKey    = keycard.LoginScoped + "oidc.flows"    // sign-ins in progress
	identityKey = keycard.LoginScoped + "oidc.identity" // the Identity of the login
	idTokenKey  = keycard.LoginScoped + "oidc.id_token" // its raw ID token, for id_token_hint
	logoutKey   = keycard.LoginScoped + "oidc.logout"   // an RP-initiated logout in progress
)

// Identity is who the provider said signed in, recorded in the session by
// Callback for later checks: which provider and account, which of the
// provider's sessions (for its logout requests), and when and how the user
// authenticated there (for decisions that need a recent or strong
// authentication).
type Identity struct {
	// Issuer and Subject identify the account: the provider never gives
	// one Subject to another user, but two providers may give the same.
	Issuer  string
	Subject string

	// SessionID is the provider's session ("sid"), or "" if the provider
	// sent none. Back- and front-channel logout name sessions by it.
	SessionID string

	// AuthTime is when the user last authenticated at the provider
	// ("auth_time"), or zero if the provider did not say. It may be
	// earlier than the keycard session's AuthTime, which is when this
	// application logged the user in.
	AuthTime time.Time

	// AMR lists the authentication methods used ("pwd", "otp", "hwk"...),
	// and ACR names the authentication context class satisfied; both as
	// the provider sent them, and empty when it sent none.
	AMR []string
	ACR string
}

// IdentityOf returns the Identity that Callback recorded in s, and false
// when s was not signed in through OpenID Connect: never signed in, signed
// in by other means, or logged in or renewed since (Login and Renew drop
// it, with the rest of keycard.LoginScoped).
func IdentityOf(s *keycard.Session) (Identity, bool) {
	return keycard.Get[Identity](s, identityKey)
}

// SignIn is what Config.MapUser receives: the provider's verified Identity,
// the ID token's claims and the tokens the provider issued.
type SignIn struct {
	Identity

	// Token holds the provider's access token (and refresh token, if any)
	// for calls to the provider's APIs, such as its userinfo endpoint.
	// Keycard keeps neither: store them yourself if the application needs
	// them later.
	Token *oauth2.Token

	idToken *gooidc.IDToken
}

// Claims decodes the verified ID token's claims into v, a pointer to a
// struct with JSON tags, as in:
//
//	var c struct {
//		Email         string `json:"email"`
//		EmailVerified bool   `json:"email_verified"`
//	}
//	err := in.Claims(&c)
func (in *SignIn) Claims(v any) error {
	return in.idToken.Claims(v)
}

// idClaims are the ID token's claims this package reads beyond go-oidc's.
type idClaims struct {
	AuthorizedParty string      `json:"azp"`
	SessionID       string      `json:"sid"`
	AuthTime        json.Number `json:"auth_time"`
	AMR             []string    `json:"amr"`
	ACR             string      `json:"acr"`
}
