package token

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
)

// sessionKey is the reserved session key that holds a session's refresh
// family.
const sessionKey = keycard.IDScoped + "refresh"

// A refresh token is the unpadded base64url encoding of
//
//	version (1 byte, 1) | session hash (32) | family ID (16) | secret (32) | tag (16)
//
// where tag is the first 16 bytes of HMAC-SHA-256 over everything before
// it, under a key derived from Config.RefreshKey. The tag lets Refresh
// refuse forged tokens before any store call and tells an old token of the
// session (proof of reuse) from a made-up one (no alarm): the session hash
// is public in access tokens' "sid", so without it anyone who saw an
// access token could forge "reused" refresh tokens and destroy the
// session. The family ID lets a later Issue retire the session's earlier
// family without that counting as reuse.
const (
	refreshVersion = 1
	refreshBodyLen = 1 + 32 + 16 + 32
	refreshTagLen  = 16
	refreshRawLen  = refreshBodyLen + refreshTagLen
	refreshLen     = (refreshRawLen*8 + 5) / 6 // base64url characters, unpadded
)

// refreshStripes is how many locks serialize the refreshes of one
// instance, by session: concurrent refreshes of one session (two tabs, a
// retry) then run one after the other, and only the first writes.
const refreshStripes = 64

var strictBase64 = base64.RawURLEncoding.Strict()

// refreshToken is a parsed refresh token.
type refreshToken struct {
	hash   [32]byte // the session's hash, raw
	family [16]byte
	secret [32]byte
}

// refreshState is a session's refresh family, stored under sessionKey. It
// holds only hashes of secrets.
type refreshState struct {
	Family    []byte    // random ID, for events and to retire earlier families
	Current   []byte    // SHA-256 of the secret that refreshes next
	Previous  []byte    // SHA-256 of the secret rotated away last, or nil
	RotatedAt time.Time // when Previous was rotated away
	Created   time.Time // when Issue started the family
	LastUsed  time.Time // the last rotation, or Created
}

// A Pair is what Issue and Refresh return: a short-lived access token and
// the refresh token that gets the next pair. Both are credentials: return
// them only to the session's own client, over TLS, and never log them. A
// Pair formats with its tokens redacted.
type Pair struct {
	// AccessToken is a JWT for "Authorization: Bearer" requests.
	AccessToken string
	// RefreshToken is an opaque token for Refresh; each use returns a new
	// one and retires it.
	RefreshToken string
	// ExpiresIn is the access token's lifetime: AccessTTL, or less when
	// the session ends sooner.
	ExpiresIn time.Duration
	// TokenType is "Bearer".
	TokenType string
}

// String returns the pair with its tokens redacted.
func (p Pair) String() string {
	return fmt.Sprintf("token.Pair{AccessToken: [REDACTED], RefreshToken: [REDACTED], ExpiresIn: %v, TokenType: %s}", p.ExpiresIn, p.TokenType)
}

// GoString is String, so %#v does not print the tokens either.
func (p Pair) GoString() string { return p.String() }

// LogValue logs the pair without its tokens.
func (p Pair) LogValue() slog.Value {
	return slog.GroupValue(slog.Duration("expires_in", p.ExpiresIn), slog.String("token_type", p.TokenType))
}

// Issue returns a new token pair for s, a session bound to a user (after
// Manager.Login) and stored (Session.Info().Hash is not ""). It starts a new
// refresh family in the session, stored under the reserved key
// "keycard.id.refresh" (see keycard.IDScoped) as hashes only; the session's earlier refresh token,
// if any, stops working (without counting as reuse).
//
// Call Issue after Login, not before: Login renews the session ID, and so
// its hash, which refresh tokens and the "sid" claim name. Renewing the
// session later (Manager.Renew) likewise ends its refresh tokens and,
// under VerifyStrict, its access tokens.
func (iss *Issuer) Issue(ctx context.Context, s *keycard.Session) (Pair, error) {
	if s == nil {
		return Pair{}, errors.New("token: issue: nil session")
	}
	if err := s.Err(); err != nil {
		return Pair{}, fmt.Errorf("token: issue: %w", err)
	}
	userID, sid := s.UserID(), s.Info().Hash
	if userID == "" {
		return Pair{}, errors.New("token: issue: the session is not logged in (call Manager.Login first)")
	}
	if sid == "" {
		return Pair{}, errors.New("token: issue: the session is not stored yet")
	}
	now := time.Now()
	var rt refreshToken
	hex.Decode(rt.hash[:], []byte(sid))
	rand.Read(rt.family[:])
	rand.Read(rt.secret[:])
	cur := sha256.Sum256(rt.secret[:])
	st := refreshState{Family: rt.family[:], Current: cur[:], Created: now, LastUsed: now, RotatedAt: now}
	if _, err := keycard.Update(ctx, s, sessionKey, func(refreshState) refreshState { return st }); err != nil {
		return Pair{}, fmt.Errorf("token: issue: %w", err)
	}
	return iss.pair(userID, s.Info().Actor, sid, s.Info().Deadline, &rt, now)
}

// pair signs an access token and encodes the refresh token rt.
func (iss *Issuer) pair(userID, actor, sid string, deadline time.Time, rt *refreshToken, now time.Time) (Pair, error) {
	at, ttl, err := iss.issueAccess(userID, actor, sid, deadline, now)
	if err != nil {
		return Pair{}, err
	}
	return Pair{AccessToken: at, RefreshToken: iss.encodeRefresh(rt), ExpiresIn: ttl, TokenType: "Bearer"}, nil
}

// Refresh exchanges a refresh token for a new pair. The presented token
// must be the session's current one: it is rotated, atomically across
// instances, and the new pair holds its successor. Presented again within
// Grace of that rotation (two tabs, a lost response), it returns the same
// successor again, with a fresh access token, and rotates nothing.
// Presented after Grace, or any older token of the family, it is proof
// that two parties hold the family: the session is destroyed, with every
// refresh and (under VerifyStrict) access token of it, and an
// EventRefreshReuse is emitted.
//
// Refresh fails with an error wrapping ErrInvalidGrant for every refused
// token, whatever the reason, including a session that was logged out,
// revoked or expired and a family past RefreshIdle or RefreshLifetime. A
// store failure is returned as an error that does not wrap
// ErrInvalidGrant.
func (iss *Issuer) Refresh(ctx context.Context, refreshToken string) (Pair, error) {
	return iss.refresh(ctx, refreshToken, nil)
}

// outcome is what a presented refresh token leads to.
type outcome int

const (
	outNone     outcome = iota // the session has no family
	outReplaced                // the family was replaced by a later Issue
	outMax                     // the family is past RefreshLifetime
	outIdle                    // the family is past RefreshIdle
	outRotate                  // the current token: rotate
	outGrace                   // the previous token within Grace: same successor
	outReused                  // the previous token after Grace: theft
	outStale                   // an older token of the family: theft
)

func (iss *Issuer) refresh(ctx context.Context, tok string, r *http.Request) (Pair, error) {
	rt, err := iss.parseRefresh(tok)
	if err != nil {
		iss.m.Emit(event.Event{Kind: event.Rejected, Reason: ReasonRefreshToken, Err: err, Request: r})
		return Pair{}, err
	}
	release, err := iss.lock(ctx, &rt.hash)
	if err != nil {
		return Pair{}, fmt.Errorf("token: refresh: %w", err)
	}
	defer release()

	sid := hex.EncodeToString(rt.hash[:])
	s, err := iss.m.OpenByHash(ctx, sid)
	switch {
	case errors.Is(err, keycard.ErrInvalidToken):
		return Pair{}, errRefreshSession // keycard reported it already
	case err != nil:
		return Pair{}, fmt.Errorf("token: refresh: %w", err)
	}
	userID := s.UserID()
	st, _ := keycard.Get[refreshState](s, sessionKey)
	if userID == "" {
		st = refreshState{} // not logged in: no family counts
	}
	now := time.Now()
	presented := sha256.Sum256(rt.secret[:])
	out := iss.decide(&st, &rt, presented[:], now)
	current := st.Current
	if out == outRotate {
		next := iss.successor(&rt)
		nextHash := sha256.Sum256(next[:])
		_, err := keycard.Update(ctx, s, sessionKey, func(st refreshState) refreshState {
			// Another instance may have rotated since the load: decide
			// again on the value Update read, and keep the last decision.
			out, current = iss.decide(&st, &rt, presented[:], now), st.Current
			if out != outRotate {
				return st
			}
			st.Previous, st.Current = st.Current, nextHash[:]
			st.RotatedAt, st.LastUsed = now, now
			current = st.Current
			return st
		})
		switch {
		case errors.Is(err, keycard.ErrSessionGone):
			return Pair{}, errRefreshSession
		case err != nil:
			return Pair{}, fmt.Errorf("token: refresh: %w", err)
		}
	}
	switch out {
	case outRotate, outGrace:
		next := iss.successor(&rt)
		if h := sha256.Sum256(next[:]); subtle.ConstantTimeCompare(h[:], current) != 1 {
			iss.rejectRefresh(errRefreshKey, sid, userID, r)
			return Pair{}, errRefreshKey
		}
		return iss.pair(userID, s.Info().Actor, sid, s.Info().Deadline, &refreshToken{hash: rt.hash, family: rt.family, secret: next}, now)
	case outReused, outStale:
		return Pair{}, iss.theft(ctx, s, sid, userID, rt.family[:], out, r)
	}
	refusal := errRefreshNone
	switch out {
	case outReplaced:
		refusal = errRefreshFamily
	case outMax:
		refusal = errRefreshMax
	case outIdle:
		refusal = errRefreshIdle
	}
	iss.rejectRefresh(refusal, sid, userID, r)
	return Pair{}, refusal
}

// decide classifies a presented token, whose secret hashes to presented,
// against the family st at time now.
func (iss *Issuer) decide(st *refreshState, rt *refreshToken, presented []byte, now time.Time) outcome {
	switch {
	case len(st.Current) == 0:
		return outNone
	case subtle.ConstantTimeCompare(st.Family, rt.family[:]) != 1:
		return outReplaced
	case now.Sub(st.Created) > iss.refreshMax:
		return outMax
	case now.Sub(st.LastUsed) > iss.refreshIdle:
		return outIdle
	case subtle.ConstantTimeCompare(presented, st.Current) == 1:
		return outRotate
	case subtle.ConstantTimeCompare(presented, st.Previous) == 1:
		if iss.grace >= 0 && now.Sub(st.RotatedAt) <= iss.grace {
			return outGrace
		}
		return outReused
	default:
		// The tag proves the token was issued for this session and family,
		// so it is an earlier member of the family.
		return outStale
	}
}

// theft destroys the session whose refresh family was reused and reports
// it.
func (iss *Issuer) theft(ctx context.Context, s *keycard.Session, sid, userID string, family []byte, out outcome, r *http.Request) error {
	reason := ReasonStale
	if out == outReused {
		reason = ReasonAfterGrace
	}
	ev := event.Event{
		Kind: EventRefreshReuse, Reason: reason, Session: sid, UserID: userID, Request: r,
		Attrs: []slog.Attr{slog.String("family", hex.EncodeToString(family))},
	}
	err := iss.m.Destroy(ctx, s)
	if err != nil {
		ev.Err = err
	}
	iss.m.Emit(ev)
	if err != nil {
		return errRefreshReuse.with(err)
	}
	return errRefreshReuse
}

func (iss *Issuer) rejectRefresh(err *refusal, sid, userID string, r *http.Request) {
	kind := event.Rejected
	if err == errRefreshIdle || err == errRefreshMax {
		kind = event.Expired
	}
	iss.m.Emit(event.Event{Kind: kind, Reason: ReasonRefreshToken, Session: sid, UserID: userID, Err: err, Request: r})
}

// lock serializes this instance's refreshes of the session hash h.
func (iss *Issuer) lock(ctx context.Context, h *[32]byte) (func(), error) {
	c := iss.stripes[int(h[0])%refreshStripes]
	select {
	case c <- struct{}{}:
		return func() { <-c }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// successor derives the secret that follows rt's. Being deterministic, it
// lets the grace window hand out the same successor again with only
// hashes stored.
func (iss *Issuer) successor(rt *refreshToken) [32]byte {
	mac := hmac.New(sha256.New, iss.successorKey)
	mac.Write(rt.hash[:])
	mac.Write(rt.family[:])
	mac.Write(rt.secret[:])
	var next [32]byte
	mac.Sum(next[:0])
	return next
}

// tag authenticates a refresh token's body.
func (iss *Issuer) tag(body []byte) [sha256.Size]byte {
	mac := hmac.New(sha256.New, iss.tagKey)
	mac.Write(body)
	var t [sha256.Size]byte
	mac.Sum(t[:0])
	return t
}

func (iss *Issuer) encodeRefresh(rt *refreshToken) string {
	var raw [refreshRawLen]byte
	raw[0] = refreshVersion
	copy(raw[1:33], rt.hash[:])
	copy(raw[33:49], rt.family[:])
	copy(raw[49:81], rt.secret[:])
	t := iss.tag(raw[:refreshBodyLen])
	copy(raw[refreshBodyLen:], t[:refreshTagLen])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// parseRefresh checks a refresh token's length, encoding, version and tag,
// without any store call.
func (iss *Issuer) parseRefresh(s string) (refreshToken, error) {
	var rt refreshToken
	if len(s) != refreshLen {
		return rt, errRefreshShape
	}
	var raw [refreshRawLen]byte
	if n, err := strictBase64.Decode(raw[:], []byte(s)); err != nil || n != refreshRawLen {
		return rt, errRefreshShape
	}
	if raw[0] != refreshVersion {
		return rt, errRefreshShape
	}
	t := iss.tag(raw[:refreshBodyLen])
	if !hmac.Equal(t[:refreshTagLen], raw[refreshBodyLen:]) {
		return rt, errRefreshMAC
	}
	copy(rt.hash[:], raw[1:33])
	copy(rt.family[:], raw[33:49])
	copy(rt.secret[:], raw[49:81])
	return rt, nil
}

// Revoke logs the session out, as Manager.Logout does: its record is
// deleted, so its refresh tokens fail at once, and its access tokens fail
// VerifyStrict at once and Verify when they expire. An API client that
// presents an access token is logged out with
//
//	m.Revoke(ctx, claims.SessionID)
//
// and Manager.RevokeUser logs out every session of a user the same way.
func (iss *Issuer) Revoke(ctx context.Context, s *keycard.Session) error {
	if err := iss.m.Logout(ctx, s); err != nil {
		return fmt.Errorf("token: revoke: %w", err)
	}
	return nil
}
