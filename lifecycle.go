package keycard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// Renew gives the session a new ID and keeps its data, user, creation time
// and absolute deadline (renewal never extends a session's life). Its CSRF
// secret (see package csrf) is dropped, so tokens issued before a
// privilege change do not work after it. The
// record under the old ID is deleted, so a captured old cookie stops
// working at once. Call it whenever the session's privilege changes; Login
// calls it for you.
//
// Renew writes to the store immediately and must be called before the
// response starts (ErrResponseStarted otherwise), since the client needs
// the new cookie.
func (m *Manager) Renew(ctx context.Context, s *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.renew(ctx, event.ReasonRenew)
}

// Login binds the session to userID, records the authentication time and
// the client's address and user agent, and renews the session ID (the
// defence against session fixation). Data is kept, so an anonymous
// visitor's cart survives logging in, unless the session was bound to a
// different user, in which case its data is cleared first. If the renewal
// fails before the session moves (the store is down), Login returns the
// error and the session fails as one whose store failed: Session.Err
// reports it, nothing is saved, and the middleware answers with
// Config.ErrorHandler.
func (m *Manager) Login(ctx context.Context, s *Session, userID string) error {
	if userID == "" {
		return errors.New("keycard: login: empty user ID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ensure() {
		return s.loadErr
	}
	if s.started {
		return ErrResponseStarted
	}
	// A login whose renewal fails before the session moves must not let
	// the commit save the binding under the ID the client presented: that
	// would hand a planted ID the user's sign-in (fixation).
	before, key, id, meta, superseded := s.state(), s.key, s.id, s.metaChanged, s.superseded
	if s.rec.UserID != "" && s.rec.UserID != userID {
		s.clear()
	}
	if s.holds(actorKey) {
		s.delete(actorKey) // a sign-in of its own ends an impersonation
	}
	s.rec.UserID = userID
	s.rec.AuthTime = time.Now()
	s.rec.IP = addrString(m.ClientIP(s.r))
	s.rec.UserAgent = userAgent(s.r)
	s.metaChanged = true
	if err := s.renew(ctx, event.ReasonLogin); err != nil {
		if s.key == key && s.id == id {
			// Nothing moved: the session goes back as it was, and fails
			// like one whose store failed, so the middleware answers with
			// Config.ErrorHandler and saves nothing, whatever the handler
			// does with the error.
			s.restoreState(before)
			s.metaChanged, s.superseded = meta, superseded
			s.loadErr = fmt.Errorf("keycard: login: %w", err)
		}
		return err
	}
	return m.enforceLimit(ctx, userID, s.key)
}

// renew moves the session to a new ID. s.mu must be held.
func (s *Session) renew(ctx context.Context, reason event.Reason) (err error) {
	if !s.ensure() {
		return s.loadErr
	}
	if s.started {
		return ErrResponseStarted
	}
	if s.byHash != "" {
		return errors.New("keycard: a session opened by hash cannot be renewed")
	}
	s.dropScoped()       // nothing issued before a privilege change works after it
	s.superseded = false // an explicit renewal (a login) may start afresh
	l := s.moveTurn()    // as rotate does
	defer l.leave()
	if err := s.catchUp(l, ""); err != nil {
		return err
	}
	oldKey, oldID, oldVersion, wasNew := s.key, s.id, s.rec.Version, s.isNew
	if s.m.cfg.RotateEvery > 0 {
		if raw, merr := s.m.cfg.Codec.Marshal(time.Now().UnixNano()); merr == nil {
			vals := s.values()
			prev, had := vals[renewedKey]
			marked := s.changed.has(renewedKey)
			vals[renewedKey] = raw
			s.markChanged(renewedKey)
			defer func() {
				if err != nil && s.key == oldKey {
					// Not renewed: the stamp would put periodic
					// rotation off for a renewal that did not happen.
					if vals := s.values(); had {
						vals[renewedKey] = prev
					} else {
						delete(vals, renewedKey)
					}
					if !marked {
						s.changed.remove(renewedKey)
					}
				}
			}()
		}
	}
	pending := s.ownChanges() // kept for retire
	s.isNew = true
	now := time.Now()
	if _, batches := s.st.(store.Batcher); batches && !wasNew && s.rec.UserID != "" {
		// A signed-in session moves in one store call where the store can
		// batch; an anonymous one, which new-visitor limits count (see
		// admitVisitor), takes the path below.
		if err := s.newID(); err != nil {
			s.key, s.id, s.isNew = oldKey, oldID, wasNew
			return err
		}
		err := s.moveAtOnce(ctx, oldKey, oldVersion, deadKey, now)
		if err == nil {
			s.m.emit(event.Event{Kind: event.Renewed, Reason: reason, Session: s.key, UserID: s.rec.UserID, Request: s.r})
			return nil
		}
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrUnsupported) {
			s.key, s.id, s.rec.Version, s.isNew = oldKey, oldID, oldVersion, wasNew
			return err
		}
	}
	if err := s.save(ctx, now); err != nil {
		s.key, s.id, s.rec.Version, s.isNew = oldKey, oldID, oldVersion, wasNew
		return err
	}
	if !wasNew {
		// Retire the old record with a compare-and-set, absorbing any write
		// it took since it was loaded; a racing logout or renewal wins.
		// A login keeps its new session even then: its user just proved
		// who they are (say, after "log out everywhere").
		if err := s.retire(ctx, oldKey, oldVersion, deadKey, reason == event.ReasonLogin, pending, now); err != nil {
			if errors.Is(err, ErrSessionGone) {
				// A racing logout or renewal won. Leave the client's cookie
				// alone: it may already hold the winner's new one.
				s.startNew(now, false)
			} else {
				// The move was undone, or could not be confirmed (the
				// store failed twice): the session stays where it was.
				s.key, s.id, s.rec.Version, s.isNew = oldKey, oldID, oldVersion, wasNew
				s.changed, s.cleared = pending.keys, pending.cleared
			}
			return fmt.Errorf("keycard: renew: %w", err)
		}
	}
	s.m.emit(event.Event{Kind: event.Renewed, Reason: reason, Session: s.key, UserID: s.rec.UserID, Request: s.r})
	return nil
}

// Logout ends the session: its record is deleted and its cookie expired.
// The request goes on with a fresh anonymous session, so a handler may
// still, say, add a flash message saying goodbye.
func (m *Manager) Logout(ctx context.Context, s *Session) error {
	if err := m.destroy(ctx, s, event.ReasonLogout); err != nil {
		return err
	}
	if m.cfg.Cookie.ClearSiteData {
		s.mu.Lock()
		s.reply.clearSite = true // for a cookie carrier
		s.mu.Unlock()
	}
	return nil
}

// Destroy deletes the session's record and expires its cookie; the request
// goes on with a fresh anonymous session. Unlike Renew it may be called
// after the response started: the record is gone at once, though the
// client then keeps a dead cookie until its next request.
func (m *Manager) Destroy(ctx context.Context, s *Session) error {
	return m.destroy(ctx, s, event.ReasonDestroy)
}

func (m *Manager) destroy(ctx context.Context, s *Session, reason event.Reason) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ensure() {
		return s.loadErr
	}
	now := time.Now()
	if s.isNew && s.retiredNext != "" {
		// The presented ID was renewed a moment ago: end the renewed copy.
		key, version, err := s.loadVersion(ctx, s.retiredNext)
		if err != nil {
			return fmt.Errorf("keycard: destroy session: %w", err)
		}
		if key != "" {
			s.key, s.rec.Version, s.isNew = key, version, false
		}
	}
	if !s.isNew {
		if err := s.bury(ctx, now); err != nil {
			return fmt.Errorf("keycard: destroy session: %w", err)
		}
		m.watches.ended(s.key)
		m.emit(event.Event{Kind: event.Destroyed, Reason: reason, Session: s.key, UserID: s.rec.UserID, Request: s.r})
	}
	s.startNew(now, true)
	return nil
}

// bury deletes the session, including where a racing renewal or rotation
// moved it meanwhile: it first retires the loaded version with a
// compare-and-set, and on a conflict follows whatever replaced it (a newer
// version, a rotation's derived ID, a renewal's new record) and tries
// again. A plain delete could miss a renewal that copied the session to a
// new ID a moment earlier, leaving that copy alive after the logout. s.mu
// must be held.
func (s *Session) bury(ctx context.Context, now time.Time) error {
	key, version := s.key, s.rec.Version
	for attempt := 0; attempt <= maxRetries; attempt++ {
		flag, _ := s.m.cfg.Codec.Marshal("")
		end := now.Add(markerLife)
		tomb := store.Record{Version: version, Created: now, LastSeen: now, Expires: end, Deadline: end,
			Data: encodeValues(map[string][]byte{deadKey: flag})}
		err := s.st.Save(ctx, key, &tomb)
		if err == nil {
			return s.st.Delete(ctx, key)
		}
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		fresh, err := s.st.Load(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil // already gone
		case err != nil:
			return err
		}
		next, retired := s.successor(fresh)
		if !retired {
			version = fresh.Version // a newer version: bury that
			continue
		}
		if next == "" {
			return nil // buried by a racing logout
		}
		// Renewed or rotated meanwhile: bury the copy too, then this marker.
		if err := s.st.Delete(ctx, key); err != nil {
			return err
		}
		if key, version, err = s.loadVersion(ctx, next); err != nil || key == "" {
			return err
		}
	}
	return store.ErrConflict
}

// successor reports whether rec is a retired record and, if so, the key of
// the record that replaced it ("" if none: a logout's marker). A rotation
// is followed by deriving the next ID when s holds its raw ID, else by
// the key the marker names.
func (s *Session) successor(rec *store.Record) (string, bool) {
	nextRaw, dead, moved := markers(rec.Data)
	switch {
	case moved && s.id != (sessionID{}):
		named := s.m.nextKey(nextRaw)
		id, ok := s.m.ids.rotated(&s.id, named)
		if !ok {
			// Derived under a key this instance lacks: the key the marker
			// names is all a logout or a version lookup needs.
			s.id = sessionID{}
			return named, true
		}
		s.id = id
		return s.id.hash(), true
	case dead || moved:
		return s.m.nextKey(nextRaw), true
	}
	return "", false
}

// nextKey decodes the key a renewal's or rotation's marker names, or "".
func (m *Manager) nextKey(raw []byte) string {
	var next string
	if m.cfg.Codec.Unmarshal(raw, &next) == nil && validHash(next) {
		return next
	}
	return ""
}

// loadVersion follows key through any markers left by renewals and
// rotations to the live record they lead to, and returns its key and
// version, or "" if the chain ends in nothing.
func (s *Session) loadVersion(ctx context.Context, key string) (string, uint64, error) {
	for hop := 0; hop <= maxHops+1; hop++ {
		rec, err := s.st.Load(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return "", 0, nil
		case err != nil:
			return "", 0, err
		}
		next, retired := s.successor(rec)
		if !retired {
			return key, rec.Version, nil
		}
		if next == "" {
			return "", 0, nil
		}
		key = next
	}
	return "", 0, nil
}

// RememberMe marks the session as remembered (on) or not. A remembered
// session gets a persistent cookie that survives browser restarts and the
// longer Config.RememberMe timeouts, counted from the session's creation.
// Call it at login, before the response starts.
func (m *Manager) RememberMe(s *Session, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ensure() {
		return s.loadErr
	}
	if s.started {
		return ErrResponseStarted
	}
	if s.rec.Persistent == on {
		return nil
	}
	s.rec.Persistent = on
	t := m.timeouts(on)
	s.rec.Deadline = s.rec.Created.Add(t.Absolute)
	s.metaChanged, s.reply.token = true, true
	return nil
}
