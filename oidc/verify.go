package oidc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Bounds on what the provider sends.
const (
	maxTokenSize = 16 << 10 // an ID or logout token, in bytes
	maxClaimLen  = 255      // sub, sid and jti
)

// backChannelEvent is the member of a logout token's "events" claim that
// makes it one (OpenID Connect Back-Channel Logout 1.0, section 2.4).
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// verifyIDToken verifies the ID token of tok for the sign-in f and returns
// what MapUser receives.
func (c *Client) verifyIDToken(ctx context.Context, tok *oauth2.Token, f pendingFlow) (*SignIn, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, refuse(ErrIDToken, "the token response has no id_token")
	}
	if len(raw) > maxTokenSize {
		return nil, refuse(ErrIDToken, "longer than 16 KiB")
	}
	// Signature (against the provider's published keys, with the
	// algorithms it announces), issuer, audience and expiry.
	idt, err := c.verifier.Verify(c.clientContext(ctx), raw)
	if err != nil {
		return nil, refuseCause(ErrIDToken, "verify", err)
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		return nil, refuseCause(ErrIDToken, "claims", err)
	}
	if err := c.checkAudience(idt.Audience, cl.AuthorizedParty); err != nil {
		return nil, refuse(ErrIDToken, err.Error())
	}
	now := time.Now()
	if idt.IssuedAt.IsZero() || idt.IssuedAt.After(now.Add(leeway)) {
		return nil, refuse(ErrIDToken, "iat missing or in the future")
	}
	if idt.Subject == "" || len(idt.Subject) > maxClaimLen || len(cl.SessionID) > maxClaimLen {
		return nil, refuse(ErrIDToken, "sub missing, or sub or sid too long")
	}
	if !sameString(idt.Nonce, f.Nonce) {
		return nil, refuse(ErrIDToken, "nonce does not match the sign-in's")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, refuseCause(ErrIDToken, "at_hash", err)
		}
	}
	id := Identity{Issuer: idt.Issuer, Subject: idt.Subject, SessionID: cl.SessionID, AMR: cl.AMR, ACR: cl.ACR}
	if cl.AuthTime != "" {
		secs, err := cl.AuthTime.Float64()
		if err != nil || !(secs > 0 && secs < 1<<40) {
			return nil, refuse(ErrIDToken, "auth_time is not a time")
		}
		id.AuthTime = time.Unix(int64(secs), 0).UTC()
	}
	if f.MaxAge > 0 {
		if id.AuthTime.IsZero() || now.Sub(id.AuthTime) > f.MaxAge+leeway {
			return nil, refuse(ErrAuthLevel, "auth_time missing or older than MaxAge")
		}
	}
	if len(f.ACR) > 0 && !slices.Contains(f.ACR, id.ACR) {
		return nil, refuse(ErrAuthLevel, "acr is not one of those requested")
	}
	return &SignIn{Identity: id, Token: tok, idToken: idt}, nil
}

// checkAudience applies OpenID Connect Core 3.1.3.7: the client must be
// an audience, and a token with several audiences, or with an authorized
// party at all, must name the client as that party.
func (c *Client) checkAudience(aud []string, azp string) error {
	switch {
	case !slices.Contains(aud, c.cfg.ClientID):
		return fmt.Errorf("audience %q does not include the client", aud)
	case len(aud) > 1 && azp != c.cfg.ClientID, azp != "" && azp != c.cfg.ClientID:
		return fmt.Errorf("authorized party %q is not the client", azp)
	}
	return nil
}

// logoutToken is a verified back-channel logout token.
type logoutToken struct {
	Subject   string
	SessionID string
	TokenID   string
	IssuedAt  time.Time
	Expiry    time.Time
}

// verifyLogoutToken validates a back-channel logout token as OpenID Connect
// Back-Channel Logout 1.0 section 2.6 requires, and as strictly as an ID
// token: signature against the provider's keys, issuer, audience and
// authorized party, expiry, an issue time no older than
// LogoutTokenMaxAge, the explicit type "logout+jwt", the back-channel
// event (a JSON object), sub and/or sid, a jti, and no nonce (so no ID
// token can pass for one).
func (c *Client) verifyLogoutToken(ctx context.Context, raw string) (*logoutToken, error) {
	if len(raw) > maxTokenSize {
		return nil, refuse(ErrLogoutToken, "longer than 16 KiB")
	}
	lt, err := c.verifier.VerifyLogout(c.clientContext(ctx), raw)
	if err != nil {
		return nil, refuseCause(ErrLogoutToken, "verify", err)
	}
	// The header is read only now, from a token whose signature (which
	// covers it) verified.
	if typ, err := headerType(raw); err != nil || !logoutType(typ) {
		return nil, refuse(ErrLogoutToken, `the header's typ is not "logout+jwt"`)
	}
	var cl struct {
		AuthorizedParty string                     `json:"azp"`
		Events          map[string]json.RawMessage `json:"events"`
	}
	if err := lt.Claims(&cl); err != nil {
		return nil, refuseCause(ErrLogoutToken, "claims", err)
	}
	if ev := bytes.TrimSpace(cl.Events[backChannelEvent]); len(ev) == 0 || ev[0] != '{' {
		return nil, refuse(ErrLogoutToken, "events has no back-channel logout member holding an object")
	}
	if err := c.checkAudience(lt.Audience, cl.AuthorizedParty); err != nil {
		return nil, refuse(ErrLogoutToken, err.Error())
	}
	now := time.Now()
	switch {
	case lt.IssuedAt.IsZero() || lt.IssuedAt.After(now.Add(leeway)):
		return nil, refuse(ErrLogoutToken, "iat missing or in the future")
	case now.Sub(lt.IssuedAt) > c.cfg.LogoutTokenMaxAge+leeway:
		return nil, refuse(ErrLogoutToken, "issued longer than LogoutTokenMaxAge ago")
	case len(lt.Subject) > maxClaimLen || len(lt.SessionID) > maxClaimLen || len(lt.TokenID) > maxClaimLen:
		return nil, refuse(ErrLogoutToken, "sub, sid or jti too long")
	}
	return &logoutToken{Subject: lt.Subject, SessionID: lt.SessionID, TokenID: lt.TokenID, IssuedAt: lt.IssuedAt, Expiry: lt.Expiry}, nil
}

// headerType returns the "typ" of a compact JWS's protected header.
func headerType(raw string) (string, error) {
	head, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", fmt.Errorf("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", err
	}
	var h struct {
		Type string `json:"typ"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", err
	}
	return h.Type, nil
}

// logoutType reports whether typ is the logout token's media type, which
// RFC 7515 section 4.1.9 lets a token write with or without "application/",
// in any case.
func logoutType(typ string) bool {
	return strings.EqualFold(typ, "logout+jwt") || strings.EqualFold(typ, "application/logout+jwt")
}
