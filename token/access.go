package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/internal/storekit"
)

// typeAccessToken is the JWS "typ" header of access tokens (RFC 9068).
const typeAccessToken = "at+jwt"

// Claims are the verified claims of an access token. Access tokens carry
// exactly these and nothing else: no profile data, no roles, no secrets.
type Claims struct {
	// Subject ("sub") is the user ID the session was bound to by Login.
	Subject string
	// Actor ("act", RFC 8693) is the user acting as Subject when the
	// session is an impersonation (keycard.Manager.Impersonate), or "".
	Actor string
	// SessionID ("sid") is the session's hash, as keycard.Session.Info().Hash
	// returns it: Manager.Revoke(ctx, SessionID) logs the session out, and
	// Manager.OpenByHash reaches its data.
	SessionID string
	// ID ("jti") is the token's unique ID: 128 random bits.
	ID string
	// Issuer ("iss") and Audience ("aud") are those of the Config.
	Issuer   string
	Audience []string
	// IssuedAt ("iat"), NotBefore ("nbf") and Expiry ("exp") bound the
	// token's validity, to the second.
	IssuedAt  time.Time
	NotBefore time.Time
	Expiry    time.Time
}

// accessPayload is the JSON payload of an access token, in this order.
type accessPayload struct {
	Iss string      `json:"iss"`
	Sub string      `json:"sub"`
	Aud string      `json:"aud"`
	Exp int64       `json:"exp"`
	Nbf int64       `json:"nbf"`
	Iat int64       `json:"iat"`
	Jti string      `json:"jti"`
	Sid string      `json:"sid"`
	Act *actorClaim `json:"act,omitempty"`
}

// actorClaim is the "act" claim of RFC 8693: who acts as the subject.
type actorClaim struct {
	Sub string `json:"sub"`
}

// sidClaim decodes the claims that jwt.Claims lacks.
type sidClaim struct {
	Sid string      `json:"sid"`
	Act *actorClaim `json:"act"`
}

// issueAccess signs an access token for userID's session sid (in which
// actor, if not "", acts as userID), expiring after AccessTTL but never
// after deadline. It returns the token and its lifetime.
func (iss *Issuer) issueAccess(userID, actor, sid string, deadline, now time.Time) (string, time.Duration, error) {
	now = now.Truncate(time.Second) // NumericDate has whole seconds
	exp := now.Add(iss.accessTTL)
	if !deadline.IsZero() && deadline.Before(exp) {
		exp = deadline
	}
	var jti [16]byte
	rand.Read(jti[:])
	p := accessPayload{
		Iss: iss.iss, Sub: userID, Aud: iss.aud,
		Exp: exp.Unix(), Nbf: now.Unix(), Iat: now.Unix(),
		Jti: base64.RawURLEncoding.EncodeToString(jti[:]), Sid: sid,
	}
	if actor != "" {
		p.Act = &actorClaim{Sub: actor}
	}
	payload, err := json.Marshal(&p)
	if err != nil {
		return "", 0, fmt.Errorf("token: issue: %w", err)
	}
	sig, err := iss.keys.signer().signer.Sign(payload)
	if err != nil {
		return "", 0, fmt.Errorf("token: issue: sign: %w", err)
	}
	tok, err := sig.CompactSerialize()
	if err != nil {
		return "", 0, fmt.Errorf("token: issue: %w", err)
	}
	return tok, time.Duration(p.Exp-p.Iat) * time.Second, nil
}

// Verify checks an access token and returns its claims. It costs no store
// call: a token stays valid until it expires even if its session was
// logged out or revoked meanwhile; use VerifyStrict where that matters.
//
// Before any parsing the token must be at most MaxTokenSize bytes of
// base64url in exactly three non-empty parts, and its protected header
// must be, byte for byte, the header one of the Issuer's keys produces: so
// the key ID must name a key of the set, the algorithm must be that key's
// one algorithm ("none" never is), "typ" must be "at+jwt", and no other
// header parameter ("jwk", "jku", "x5u", "x5c", "zip", "crit"...) may
// appear. Then go-jose verifies the signature with that key alone, and
// only after that are the claims decoded: "exp", "iat", "sub", "sid" and
// "jti" are required, "iss" must be the Issuer, "aud" must include the
// Audience (as a string or in an array), "nbf", "exp" and "iat" are
// checked against the clock with Leeway, and the token may not live longer
// than AccessTTL.
//
// Every refusal is an error wrapping ErrInvalidToken, and is reported as
// an event (event.Rejected, or event.Expired for an expired
// token).
func (iss *Issuer) Verify(ctx context.Context, accessToken string) (*Claims, error) {
	return iss.verify(ctx, accessToken, nil, false)
}

// VerifyStrict is Verify plus one store read: the token's session must
// still exist and be bound to the token's subject. A logged-out or
// revoked session's tokens fail at once, instead of when they expire. A
// store failure is returned as an error that does not wrap
// ErrInvalidToken.
func (iss *Issuer) VerifyStrict(ctx context.Context, accessToken string) (*Claims, error) {
	return iss.verify(ctx, accessToken, nil, true)
}

func (iss *Issuer) verify(ctx context.Context, tok string, r *http.Request, strict bool) (*Claims, error) {
	c, err := iss.check(tok, time.Now())
	if err != nil {
		iss.reject(err, r)
		return nil, err
	}
	if !strict {
		return c, nil
	}
	s, err := iss.m.OpenByHash(ctx, c.SessionID)
	switch {
	case errors.Is(err, keycard.ErrInvalidToken):
		return nil, errSessionGone // keycard reported it already
	case err != nil:
		return nil, fmt.Errorf("token: verify: %w", err)
	case s.UserID() != c.Subject || s.Info().Actor != c.Actor:
		iss.reject(errSessionUser, r)
		return nil, errSessionUser
	}
	return c, nil
}

// reject reports a refused access token.
func (iss *Issuer) reject(err error, r *http.Request) {
	kind := event.Rejected
	if err == errExpired {
		kind = event.Expired
	}
	iss.m.Emit(event.Event{Kind: kind, Reason: ReasonAccessToken, Err: err, Request: r})
}

// check verifies tok at time now.
func (iss *Issuer) check(tok string, now time.Time) (*Claims, error) {
	if len(tok) > iss.maxSize {
		return nil, errTooLarge
	}
	dot, ok := compactShape(tok)
	if !ok {
		return nil, errShape
	}
	e, ok := iss.keys.lookup(tok[:dot], now)
	if !ok {
		return nil, errHeader.with(iss.explainHeader(tok[:dot]))
	}
	t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{e.alg})
	if err != nil {
		return nil, errParse.with(err)
	}
	if h := t.Headers[0]; h.KeyID != e.kid || h.Algorithm != string(e.alg) || h.JSONWebKey != nil {
		return nil, errHeader // unreachable: the header bytes were matched
	}
	var std jwt.Claims
	var ext sidClaim
	if err := t.Claims(e.verify, &std, &ext); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return nil, errSignature
		}
		return nil, errClaims.with(err)
	}
	if std.Expiry == nil || std.IssuedAt == nil || std.Subject == "" || std.ID == "" || !storekit.ValidHash(ext.Sid) {
		return nil, errClaims
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: iss.iss, AnyAudience: jwt.Audience{iss.aud}, Time: now}, iss.leeway)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, errIssuer
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, errAudience
	case errors.Is(err, jwt.ErrExpired):
		return nil, errExpired
	case errors.Is(err, jwt.ErrNotValidYet):
		return nil, errNotYetValid
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, errIssuedFuture
	default:
		return nil, errClaims.with(err)
	}
	iat, exp := std.IssuedAt.Time(), std.Expiry.Time()
	if exp.Sub(iat) > iss.accessTTL {
		return nil, errLifetime
	}
	c := &Claims{
		Subject: std.Subject, SessionID: ext.Sid, ID: std.ID, Issuer: std.Issuer,
		Audience: []string(std.Audience), IssuedAt: iat, Expiry: exp,
	}
	if std.NotBefore != nil {
		c.NotBefore = std.NotBefore.Time()
	}
	if ext.Act != nil {
		if ext.Act.Sub == "" {
			return nil, errClaims
		}
		c.Actor = ext.Act.Sub
	}
	return c, nil
}

// compactShape reports whether tok is three non-empty parts of canonical
// base64url separated by exactly two dots, and where the first dot is. It
// stops at the first offending byte and allocates nothing, so a flood of
// dots costs no more than its length. Canonical means the unused low bits
// of a part's last character are zero, so a token has one spelling only.
func compactShape(tok string) (dot int, ok bool) {
	d1, d2 := -1, -1
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.' && d1 < 0:
			d1 = i
		case c == '.' && d2 < 0:
			d2 = i
		default:
			return 0, false
		}
	}
	ok = d1 > 0 && d2 > d1+1 && d2 < len(tok)-1 &&
		canonicalEnd(tok[:d1]) && canonicalEnd(tok[d1+1:d2]) && canonicalEnd(tok[d2+1:])
	return d1, ok
}

// canonicalEnd reports whether the base64url characters part have a
// possible length and no stray bits in their last character.
func canonicalEnd(part string) bool {
	last := base64Value(part[len(part)-1])
	switch len(part) % 4 {
	case 1:
		return false
	case 2:
		return last&0x0f == 0
	case 3:
		return last&0x03 == 0
	}
	return true
}

// base64Value returns the value of a base64url character.
func base64Value(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26
	case '0' <= c && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	}
	return 63
}

// explainHeader says, for logs, why a protected header was refused. It
// runs only for refused tokens, on at most MaxTokenSize bytes, and never
// quotes the header's values.
func (iss *Issuer) explainHeader(seg string) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("header is not base64url")
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw, &h); err != nil {
		return errors.New("header is not a JSON object")
	}
	var alg, kid, typ string
	for name, v := range h {
		switch name {
		case "alg":
			json.Unmarshal(v, &alg)
		case "kid":
			json.Unmarshal(v, &kid)
		case "typ":
			json.Unmarshal(v, &typ)
		default:
			return errors.New("header has a parameter other than alg, kid and typ")
		}
	}
	switch keyAlg, known := iss.keys.hasKeyID(kid); {
	case strings.EqualFold(alg, "none"):
		return errors.New(`alg "none"`)
	case !known:
		return errors.New("unknown kid")
	case alg != string(keyAlg):
		return errors.New("alg is not the key's algorithm")
	case typ != typeAccessToken:
		return errors.New(`typ is not "at+jwt"`)
	default:
		return errors.New("previous key past its tokens' lifetime, or header not in canonical form")
	}
}
