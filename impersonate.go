package keycard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/internal/sealed"
	"github.com/keycard-go/keycard/store"
)

// Impersonation lets a permitted user (support staff, an administrator)
// act as another user for a while, with the actor on record: the actor's
// own session is set aside, not ended, and a new session of the target
// user takes its place in the browser, marked with the actor
// (SessionInfo.Actor), bounded in time, and without a recent authentication
// (StepUp never passes in it). Ending it restores the actor's own session.

// actorKey holds an impersonation session's actor: who they are, and
// their own session's ID, sealed under keys derived for the purpose, so
// that the store never holds a usable ID.
const actorKey = reservedPrefix + "actor"

// actorRecord is the value under actorKey.
type actorRecord struct {
	User string `cbor:"1,keyasint"`
	ID   []byte `cbor:"2,keyasint"` // sealed
}

// ErrNotImpersonating is returned by EndImpersonation for a session that
// is not an impersonation.
var ErrNotImpersonating = errors.New("keycard: session is not an impersonation")

// Impersonate makes the signed-in user of s act as userID for at most
// maxAge (and never past the actor's own absolute deadline): the session
// moves to a new ID bound to userID, with no values of the actor's and no
// authentication time, and the actor's session is kept aside until
// EndImpersonation, its idle deadline extended to cover the impersonation.
// Whether the actor may impersonate userID is the application's decision,
// made before calling Impersonate. Like Login, it must be called before
// the response starts. It reports an event.Impersonation.
func (m *Manager) Impersonate(ctx context.Context, s *Session, userID string, maxAge time.Duration) error {
	if m.cfg.Store == nil {
		return fmt.Errorf("keycard: impersonate: sealed sessions are not stored: %w", store.ErrUnsupported)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ensure() {
		return s.loadErr
	}
	actor := s.rec.UserID
	switch {
	case userID == "" || maxAge <= 0:
		return errors.New("keycard: impersonate: need a user ID and a positive duration")
	case s.started:
		return ErrResponseStarted
	case s.isNew || actor == "" || s.byHash != "":
		return errors.New("keycard: impersonate: the actor must be signed in")
	case s.holds(actorKey):
		return errors.New("keycard: impersonate: already impersonating; end it first")
	}
	box, err := m.actorBox()
	if err != nil {
		return err
	}
	now := time.Now()
	end := minTime(now.Add(maxAge), s.rec.Deadline)
	// The actor's session waits, untouched, until the impersonation ends.
	keep := minTime(end.Add(m.timeouts(s.rec.Persistent).Idle), s.rec.Deadline)
	if err := s.st.Touch(ctx, s.key, now, keep); err != nil {
		return fmt.Errorf("keycard: impersonate: %w", err)
	}
	raw, err := m.cfg.Codec.Marshal(actorRecord{User: actor, ID: box.Seal(nil, s.id[:], []byte(actor))})
	if err != nil {
		return fmt.Errorf("keycard: impersonate: %w", err)
	}
	// The actor's session, restored if the impersonation fails, so that
	// the commit does not store a half-made one.
	id, key, rec, vals, size := s.id, s.key, s.rec, s.vals, s.size
	changed, cleared, metaChanged, isNew, reply := slices.Clone(s.changed), s.cleared, s.metaChanged, s.isNew, s.reply
	fail := func(err error) error {
		s.id, s.key, s.rec, s.vals, s.size = id, key, rec, vals, size
		s.changed, s.cleared, s.metaChanged, s.isNew, s.reply = changed, cleared, metaChanged, isNew, reply
		return fmt.Errorf("keycard: impersonate: %w", err)
	}
	s.startNew(now, false)
	s.rec.UserID, s.rec.Deadline, s.rec.Expires = userID, end, minTime(s.rec.Expires, end)
	s.metaChanged = true
	if err := s.putRaw(actorKey, raw); err != nil {
		return fail(err)
	}
	if err := s.save(ctx, now); err != nil {
		return fail(err)
	}
	m.emit(event.Event{Kind: event.Impersonation, Reason: event.ReasonLogin, Session: s.key, UserID: userID, Request: s.r,
		Attrs: []slog.Attr{slog.String("actor", actor), slog.Time("until", end)}})
	return nil
}

// EndImpersonation ends the impersonation s is, and restores the actor's
// own session in its place (the client gets its cookie back). If the
// actor's session ended meanwhile, s is left a new anonymous session and
// the error wraps ErrSessionGone. It reports an event.Impersonation.
func (m *Manager) EndImpersonation(ctx context.Context, s *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ensure() {
		return s.loadErr
	}
	if s.started {
		return ErrResponseStarted
	}
	a, ok := get[actorRecord](s, actorKey)
	if !ok || s.isNew {
		return ErrNotImpersonating
	}
	box, err := m.actorBox()
	if err != nil {
		return err
	}
	now := time.Now()
	impersonated, key := s.rec.UserID, s.key
	if err := s.bury(ctx, now); err != nil {
		return fmt.Errorf("keycard: end impersonation: %w", err)
	}
	m.watches.ended(key)
	m.emit(event.Event{Kind: event.Impersonation, Reason: event.ReasonLogout, Session: key, UserID: impersonated, Request: s.r,
		Attrs: []slog.Attr{slog.String("actor", a.User)}})
	s.startNew(now, true)
	var id sessionID
	if plain, err := box.Open(nil, a.ID, []byte(a.User)); err == nil && len(plain) == idSize {
		copy(id[:], plain)
		s.isNew = false // loadKey makes it new again if the record is gone
		s.loadKey(ctx, id, id.hash(), now)
	}
	switch {
	case s.loadErr != nil:
		return s.loadErr
	case s.isNew || s.rec.UserID != a.User:
		s.startNew(now, true)
		return fmt.Errorf("keycard: end impersonation: the actor's session: %w", ErrSessionGone)
	}
	s.reply.token, s.reply.clear = true, false
	return nil
}

// actorOf returns the actor's user in raw, an actorKey value, or "".
func (m *Manager) actorOf(raw []byte) string {
	var a actorRecord
	if raw == nil || m.cfg.Codec.Unmarshal(raw, &a) != nil {
		return ""
	}
	return a.User
}

// actorBox returns the AEAD that seals actors' session IDs.
func (m *Manager) actorBox() (*sealed.Box, error) {
	keys := m.DeriveKeys("impersonation")
	secrets := make([][]byte, len(keys))
	for i, k := range keys {
		secrets[i] = k
	}
	box, err := sealed.New("impersonation v1", secrets)
	if err != nil {
		return nil, fmt.Errorf("keycard: impersonation keys: %w", err)
	}
	return box, nil
}

// holds reports whether s holds key. s.mu must be held.
func (s *Session) holds(key string) bool {
	_, ok := s.value(key)
	return ok
}

// checkActor ends an impersonation whose actor may no longer act: their
// own session, set aside, was logged out, revoked (RevokeUser included)
// or expired, or Config.RevokedBefore revokes them. actor is rec's raw
// actorKey value, nil for a session that is no impersonation, which costs
// nothing; an impersonation costs one store load per request.
func (s *Session) checkActor(ctx context.Context, key string, rec *store.Record, actor []byte, now time.Time) bool {
	if actor == nil {
		return true
	}
	var a actorRecord
	ok := s.m.cfg.Codec.Unmarshal(actor, &a) == nil && a.User != ""
	if ok {
		ok = s.m.actorActive(ctx, &a, now)
	}
	if !ok {
		s.discard(ctx, key, rec, event.Event{Kind: event.Destroyed, Reason: event.ReasonRevoke}, now)
	}
	return ok
}

// actorActive reports whether the actor of an impersonation still has
// their own session and is not revoked. A store failure counts as not.
func (m *Manager) actorActive(ctx context.Context, a *actorRecord, now time.Time) bool {
	box, err := m.actorBox()
	if err != nil {
		return false
	}
	plain, err := box.Open(nil, a.ID, []byte(a.User))
	if err != nil || len(plain) != idSize {
		return false
	}
	var id sessionID
	copy(id[:], plain)
	own, err := m.sessionStore.Load(ctx, id.hash())
	if err != nil || !own.Live(now) || own.UserID != a.User {
		return false
	}
	revoked, err := m.revoked(ctx, own)
	return err == nil && !revoked
}
