// Package token carries keycard sessions as bearer tokens, for APIs,
// single-page and mobile apps, and other services: a short-lived JWT
// access token and an opaque, rotating refresh token, both bound to the
// server-side session.
//
// A session is one thing; tokens are another way to carry it. Logging a
// session out, revoking it, or revoking its user ends its refresh tokens at
// once, and its access tokens when they expire (at once under
// VerifyStrict). For browsers served by the same site, keycard's cookie is
// simpler and needs none of this package.
//
//	iss, err := token.New(m, token.Config{
//		Issuer:     "https://auth.example.com",
//		Audience:   "https://api.example.com",
//		Keys:       keys,       // a *KeySet; see below
//		RefreshKey: refreshKey, // 32+ random bytes, the same on every instance
//	})
//	...
//	// Login handler, after checking the credentials:
//	s := keycard.FromContext(r.Context())
//	m.Login(r.Context(), s, userID)
//	m.RememberMe(s, true)
//	pair, err := iss.Issue(r.Context(), s)
//	...
//	pair.WriteResponse(w) // an OAuth 2.0 token response
//	...
//	mux.Handle("POST /token", iss.RefreshHandler())
//	mux.Handle("GET /.well-known/jwks.json", iss.JWKS())
//	mux.Handle("/api/", iss.Middleware(false)(api))
//
// # Access tokens
//
// An access token is a JWS (RFC 7515) signed by the KeySet's current key,
// with header "typ: at+jwt" and the key's "kid", and exactly the claims
// sub (the user), sid (the session's hash), iss, aud, iat, nbf, exp and a
// random jti: nothing else, so no personal data travels in it. It lives
// Config.AccessTTL, 10 minutes by default and at most 15 unless
// AllowLongAccessTTL is set, and never past its session's absolute
// deadline.
//
// Verify checks one with no store call. It refuses, before any parsing,
// tokens longer than MaxTokenSize (8 KiB) and anything but three parts of
// canonical base64url, so a megabyte of dots costs a length check. The
// protected header must be, byte for byte, the header one of the set's
// keys produces: that pins the key ID to a known key, the algorithm to
// that key's one algorithm ("none" never is, and an HS256 token is only
// ever checked against an HS256 secret, never against a public key),
// requires "typ: at+jwt", and refuses every other header parameter ("jwk",
// "jku", "x5u", "x5c", "zip", "crit"): nothing is ever fetched. go-jose
// then verifies the signature with that key alone, and only then are the
// claims decoded and checked: issuer, audience (string or array), expiry,
// not-before and issue time with Config.Leeway (30 seconds), a lifetime no
// longer than AccessTTL. Every refusal is ErrInvalidToken; the wrapped
// detail is for logs and events, never for clients.
//
// # Default and strict verification
//
// Verify (and Middleware(false)) trusts a valid token until it expires:
// it is fast and needs no store, but a token stolen or issued before a
// logout works for the rest of its lifetime, at most AccessTTL.
// VerifyStrict (and Middleware(true)) also reads the session, one store
// round trip, so a logged-out or revoked session's tokens fail at once.
// Use strict verification for sensitive operations, or everywhere when a
// store read per request is affordable; services that only have the JWKS
// can do default verification only.
//
// # Refresh tokens
//
// A refresh token is opaque: a version, the session's hash, a family ID,
// a 256-bit secret and a tag (an HMAC under a key derived from
// Config.RefreshKey), base64url-encoded. Forged or altered tokens fail the
// tag before any store call. The session stores, under the reserved key
// "keycard.id.refresh", only SHA-256 hashes: of the current secret and of the
// one rotated away last, with the family's creation, last-use and rotation
// times.
//
// Refresh accepts only the current token. It rotates it, atomically across
// instances (keycard.Update's compare-and-set), to a successor derived
// from it with HMAC-SHA-256, and returns a new pair. A refresh family ends
// after Config.RefreshIdle without use (14 days) or Config.RefreshLifetime
// after Issue (30 days), and with its session: the session's own timeouts
// bound it too, so API logins are usually marked with Manager.RememberMe
// (7 days idle, 30 days absolute by default).
//
// # Theft detection and the grace window
//
// Rotation makes a stolen refresh token detectable: once either the
// client or the thief has used it, the other one's copy is stale. When a
// stale token of the family comes back, the session is destroyed at once,
// with every refresh token of it and, under VerifyStrict, every access
// token, and an EventRefreshReuse event names the session, the user and
// the family (never a token).
//
// Honest clients also present a token twice: two tabs refreshing at the
// same moment, or a retry after a lost response. So for Config.Grace (10
// seconds by default) after a rotation, the token just rotated away
// returns the same successor again, with a fresh access token, without
// rotating or raising an alarm. The trade-off: two parties holding the
// same refresh token within the grace window both succeed, and end up
// holding the same successor; after the window, the second presentation
// revokes everything. A grace of -1 disables the window. Within one
// instance concurrent refreshes of a session are serialized, so they do
// not even contend in the store.
//
// Issue starts a new family and quietly retires the session's previous
// one. Login and Renew change the session's hash, which both kinds of
// token name, so call Issue after Login, and expect Renew to end the
// session's tokens.
//
// # Revocation
//
//   - Manager.Logout, Issuer.Revoke, Manager.Revoke(ctx, claims.SessionID)
//     end one session; Manager.RevokeUser ends all of a user's (and
//     keycard.Config.RevokedBefore all of those authenticated before a
//     time). Refresh tokens fail at once; access tokens fail VerifyStrict
//     at once and Verify when they expire.
//   - A detected reuse destroys the session in the same way.
//
// # Keys and rotation
//
// Keys are pinned to one algorithm each: EdDSA (Ed25519, the default and
// recommended), ES256 and RS256 as PrivateKey, whose public halves the
// JWKS handler publishes, and HS256 as SecretKey, for a single service
// that issues and verifies its own tokens, never published. Rotation uses
// three states (see KeySet): add the new key as next on every instance and
// wait JWKSMaxAge, promote it, and let the old key, now previous, verify
// its tokens until they expire, after which it leaves the set on its own.
// A key that leaked must be removed with KeySet.Remove, not merely
// retired: until then it verifies whatever it signs.
//
// Changing Config.RefreshKey invalidates every refresh token (users log
// in again); there is no ring of refresh keys.
//
// # Transport
//
// Send refresh tokens only in the body of a POST over TLS (RefreshHandler
// refuses them in the URL), or in an HttpOnly, Secure cookie scoped to the
// refresh endpoint whose handler calls Refresh; never put either token in
// a URL or a log. Pair formats
// with its tokens redacted.
//
// # Token endpoints
//
// Pair.WriteResponse writes a pair as an OAuth 2.0 access token response
// (RFC 6749 section 5.1), not cacheable, for instance from a login
// endpoint. RefreshHandler is built from it and three more pieces, for an
// app that needs an endpoint of its own (with client authentication, say):
// ReadRefreshRequest reads a refresh request (section 6), refusing tokens
// in the URL, repeated parameters, other grant types and oversized
// bodies with an *OAuthError; Refresh exchanges the token; WriteError
// writes an OAuthError, ErrInvalidGrant or a store failure as an OAuth
// error response (section 5.2).
//
// # Events
//
// Refused access and refresh tokens are reported through Manager.Emit as
// event.Rejected (event.Expired for expired ones) with
// ReasonAccessToken or ReasonRefreshToken, and reuse as EventRefreshReuse,
// into the same stream as keycard's own events.
package token
