package keycard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keycard-go/keycard/store"
)

// Open, OpenByHash and Save reach sessions outside the middleware; Token
// hands a session's token to its client.

// Header returns the request header that carries sessions
// (Config.Header, canonicalized), or "" when they travel in cookies.
// Companion packages use it: a session in a header cannot be sent by a
// forged cross-site request, so package csrf exempts it.
func (m *Manager) Header() string { return m.cfg.Header }

// ErrNoToken is returned by Manager.Token for a session that has not been
// stored yet, and so has no ID to hand out.
var ErrNoToken = errors.New("keycard: session has no token yet")

// Token returns the session's current token: the signed ID that the cookie
// carries, or that a header-carrier client sends. It is a credential:
// return it only to the session's own client, over TLS, and never log it.
// A new session has a token once it is stored: after Login, Renew or
// Update, or after the response started.
func (m *Manager) Token(s *Session) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ensure() {
		return "", s.loadErr
	}
	return m.carrier.token(s)
}

// ErrInvalidToken is returned by Manager.Open for a token that is
// malformed, forged, unknown, expired or revoked; it does not say which.
var ErrInvalidToken = errors.New("keycard: invalid session token")

// Open returns the session that token names, outside any HTTP request: for
// background jobs, WebSocket connections, or companion packages such as
// token refresh endpoints. The same checks as the middleware apply; an
// invalid token gives ErrInvalidToken, a store failure a wrapped error.
// Changes to the session are saved by Manager.Save. Most applications use
// Handler and never call Open.
func (m *Manager) Open(ctx context.Context, token string) (*Session, error) {
	s := m.session(ctx, nil)
	s.cookie, s.cookies = token, 1
	return s.open(ctx)
}

// OpenByHash returns the session whose hash (see Session.Info().Hash) is hash,
// outside any HTTP request, for companion packages that name sessions by
// hash, such as refresh tokens and access tokens' "sid" claim. The session
// can be read, changed and saved with Save, destroyed and revoked, but not
// renewed, and Token reports ErrNoToken for it, since the raw ID is not
// known. An unknown or expired hash gives ErrInvalidToken.
func (m *Manager) OpenByHash(ctx context.Context, hash string) (*Session, error) {
	if m.cfg.Store == nil {
		return nil, fmt.Errorf("keycard: sealed sessions have no hash to open by: %w", store.ErrUnsupported)
	}
	if !validHash(hash) {
		return nil, ErrInvalidToken
	}
	s := m.session(ctx, nil)
	s.byHash = hash
	return s.open(ctx)
}

// open loads a session named outside a request, which must exist.
func (s *Session) open(ctx context.Context) (*Session, error) {
	s.load(ctx)
	if s.loadErr != nil {
		return nil, s.loadErr
	}
	if s.isNew {
		return nil, ErrInvalidToken
	}
	return s, nil
}

// Save stores the changes made to a session obtained from Open. Sessions
// served by Handler are saved by it; calling Save on them is harmless but
// unnecessary. It returns ErrSessionGone if the session was destroyed
// meanwhile.
func (m *Manager) Save(ctx context.Context, s *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ensure() {
		return s.loadErr
	}
	if s.isNew && s.size == 0 && !s.metaChanged {
		return nil
	}
	if err := s.save(ctx, time.Now()); err != nil {
		return fmt.Errorf("keycard: save: %w", err)
	}
	return nil
}
