package keycard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
)

// SessionInfo describes a session, for a "your devices" page or an
// account page: what Manager.Sessions lists and Session.Info returns. It
// holds no usable credential.
type SessionInfo struct {
	// Hash names the session for Revoke; compare it with Session.Info().Hash to
	// find the current one.
	Hash   string
	UserID string
	// Created is when the session began; renewing its ID keeps it.
	Created time.Time
	// LastSeen is the last recorded activity, recorded at most once per
	// tenth of the idle timeout.
	LastSeen time.Time
	// AuthTime is when the user last logged in to the session, or zero.
	AuthTime time.Time
	// IdleDeadline is when the session ends unless there is activity
	// before then; it is never after Deadline.
	IdleDeadline time.Time
	// Deadline is the absolute deadline, which no activity extends.
	Deadline time.Time
	// Remembered reports that the session is marked with RememberMe.
	Remembered bool
	// IP and UserAgent are the client's when its user logged in.
	IP        string
	UserAgent string
	// Actor is the user acting through the session when it is an
	// impersonation (see Manager.Impersonate), or "".
	Actor string
}

// infoOf describes the record stored under hash, whose impersonation
// actor, if any, is actor.
func infoOf(hash string, r *store.Record, actor string) SessionInfo {
	return SessionInfo{
		Hash: hash, UserID: r.UserID, Created: r.Created, LastSeen: r.LastSeen, AuthTime: r.AuthTime,
		IdleDeadline: r.Expires, Deadline: r.Deadline, Remembered: r.Persistent, IP: r.IP, UserAgent: r.UserAgent,
		Actor: actor,
	}
}

func (m *Manager) userIndex() (store.UserIndex, error) {
	ix, ok := m.cfg.Store.(store.UserIndex)
	if !ok {
		return nil, fmt.Errorf("keycard: %T has no user index: %w", m.cfg.Store, store.ErrUnsupported)
	}
	return ix, nil
}

// Sessions lists the live sessions of userID. It needs a store that
// implements store.UserIndex, and reports store.ErrUnsupported otherwise.
func (m *Manager) Sessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	ix, err := m.userIndex()
	if err != nil {
		return nil, err
	}
	entries, err := ix.ListUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("keycard: list sessions: %w", err)
	}
	now := time.Now()
	infos := make([]SessionInfo, 0, len(entries))
	for _, e := range entries {
		r := e.Record
		if !r.Live(now) || r.UserID != userID {
			continue
		}
		infos = append(infos, infoOf(e.Key, r, m.actorOf(scanReserved(r.Data).actor)))
	}
	return infos, nil
}

// Revoke deletes the session whose hash is hash (see Session.Info().Hash and
// SessionInfo.Hash). Its cookie stops working at once. A hash a periodic
// rotation retired moments ago (from a device list loaded before it)
// still names the session: Revoke follows the marker left under it and
// deletes the session's current record too. Revoking a session that does
// not exist is not an error.
func (m *Manager) Revoke(ctx context.Context, hash string) error {
	if m.cfg.Store == nil {
		return fmt.Errorf("keycard: revoke: sealed sessions are not stored: %w", store.ErrUnsupported)
	}
	if !validHash(hash) {
		return errors.New("keycard: revoke: not a session hash")
	}
	keys := []string{hash}
	for len(keys) <= maxHops {
		rec, err := m.cfg.Store.Load(ctx, keys[len(keys)-1])
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return fmt.Errorf("keycard: revoke: %w", err)
		}
		// Only a rotation's marker is followed: it moved the same session
		// of the same user. A renewal's may lead to another user's
		// session (a login on a shared browser).
		nextRaw, _, moved := markers(rec.Data)
		next := m.nextKey(nextRaw)
		if !moved || next == "" {
			break
		}
		keys = append(keys, next)
	}
	// The newest first, so that no marker outlives what it names.
	for i := len(keys) - 1; i >= 0; i-- {
		if err := m.cfg.Store.Delete(ctx, keys[i]); err != nil {
			return fmt.Errorf("keycard: revoke: %w", err)
		}
		m.watches.ended(keys[i])
	}
	m.emit(event.Event{Kind: event.Destroyed, Reason: event.ReasonRevoke, Session: keys[len(keys)-1]})
	return nil
}

// RevokeUser deletes every session of userID ("log out everywhere") and
// reports how many it deleted. It needs a store that implements
// store.UserIndex, and reports store.ErrUnsupported otherwise.
func (m *Manager) RevokeUser(ctx context.Context, userID string) (int, error) {
	ix, err := m.userIndex()
	if err != nil {
		return 0, err
	}
	n, err := ix.DeleteUser(ctx, userID)
	if err != nil {
		return n, fmt.Errorf("keycard: revoke user: %w", err)
	}
	m.watches.userEnded(userID)
	m.emit(event.Event{Kind: event.Destroyed, Reason: event.ReasonRevoke, UserID: userID})
	return n, nil
}

// RevokeOthers deletes every session of s's user except s itself ("log
// out my other devices", for example after a password change) and reports
// how many it deleted. Renew s as well when its privilege changed. It
// needs a store that implements store.UserIndex.
func (m *Manager) RevokeOthers(ctx context.Context, s *Session) (int, error) {
	user, current := s.UserID(), s.Info().Hash
	if user == "" {
		return 0, nil
	}
	infos, err := m.Sessions(ctx, user)
	if err != nil {
		return 0, err
	}
	n, err := m.revokeEach(ctx, user, infos, current, len(infos), event.ReasonRevoke)
	if err != nil {
		return n, fmt.Errorf("keycard: revoke others: %w", err)
	}
	return n, nil
}

// revokeEach deletes up to limit of user's sessions listed in infos, in
// order, skipping current, and reports how many it deleted.
func (m *Manager) revokeEach(ctx context.Context, user string, infos []SessionInfo, current string, limit int, reason event.Reason) (int, error) {
	n := 0
	for _, in := range infos {
		if n == limit {
			break
		}
		if in.Hash == current {
			continue
		}
		if err := m.cfg.Store.Delete(ctx, in.Hash); err != nil {
			return n, err
		}
		m.watches.ended(in.Hash)
		m.emit(event.Event{Kind: event.Destroyed, Reason: reason, Session: in.Hash, UserID: user})
		n++
	}
	return n, nil
}

// validHash reports whether h looks like a session hash: 64 lowercase hex
// digits, as the stores key records.
func validHash(h string) bool { return storekit.ValidHash(h) }

// enforceLimit revokes userID's sessions with the oldest authentication
// times beyond Config.MaxSessionsPerUser, never the session current. Two
// logins racing each trim the same oldest sessions, so the user ends at or
// under the cap.
func (m *Manager) enforceLimit(ctx context.Context, userID, current string) error {
	if m.cfg.MaxSessionsPerUser <= 0 {
		return nil
	}
	infos, err := m.Sessions(ctx, userID)
	if err != nil {
		return fmt.Errorf("keycard: login: session limit: %w", err)
	}
	if len(infos) <= m.cfg.MaxSessionsPerUser {
		return nil
	}
	slices.SortFunc(infos, func(a, b SessionInfo) int {
		if c := a.AuthTime.Compare(b.AuthTime); c != 0 {
			return c
		}
		return strings.Compare(a.Hash, b.Hash)
	})
	if _, err := m.revokeEach(ctx, userID, infos, current, len(infos)-m.cfg.MaxSessionsPerUser, event.ReasonLimit); err != nil {
		return fmt.Errorf("keycard: login: session limit: %w", err)
	}
	return nil
}
