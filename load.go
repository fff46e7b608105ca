package keycard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// newSession prepares the session for r. It only finds the cookie; the
// cookie is verified, and the session loaded, on first use.
func (m *Manager) newSession(r *http.Request) *Session {
	s := m.session(r.Context(), r)
	token, n := m.carrier.presented(r.Header)
	s.cookie, s.cookies = token, int32(min(n, 2))
	return s
}

// session returns an empty Session for ctx and r (which may be nil).
func (m *Manager) session(ctx context.Context, r *http.Request) *Session {
	return &Session{m: m, r: r, ctx: ctx, st: m.carrier.records(m.sessionStore)}
}

// load reads the session from the store. A forged or malformed cookie is
// rejected by its MAC first, with no store call. An absent, expired or
// undecodable record gives a fresh session; a store failure sets loadErr.
func (s *Session) load(ctx context.Context) {
	s.loaded = true
	now := time.Now()
	s.loadedAt = now
	if s.byHash != "" {
		s.loadKey(ctx, sessionID{}, s.byHash, now)
		return
	}
	if s.cookies == 0 {
		s.startNew(now, false)
		return
	}
	id, key, reason := s.m.carrier.open(s.st, s.cookie)
	if s.cookies > 1 {
		reason = event.ReasonDuplicate
	}
	if reason != "" {
		s.refuse(reason, "")
		s.startNew(now, true)
		return
	}
	s.loadKey(ctx, id, key, now)
}

// loadKey loads the record stored under key, which belongs to id (zero when
// the session was opened by hash).
func (s *Session) loadKey(ctx context.Context, id sessionID, key string, now time.Time) {
	rec, err := s.loadRecord(ctx, key, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.refuse(event.ReasonUnknown, key)
		s.startNew(now, true)
		return
	case err != nil:
		s.loadErr = fmt.Errorf("keycard: load session: %w", err)
		return
	}
	if !rec.Live(now) {
		s.discard(ctx, key, rec, event.Event{Kind: event.Expired, Reason: expiryReason(rec, now)}, now)
		return
	}
	if revoked, err := s.m.revoked(ctx, rec); err != nil {
		s.loadErr = err
		return
	} else if revoked {
		s.discard(ctx, key, rec, event.Event{Kind: event.Destroyed, Reason: event.ReasonRevoke}, now)
		return
	}
	size, r, err := inspectValues(rec.Data)
	if err != nil {
		s.discard(ctx, key, rec, event.Event{Kind: event.Rejected, Reason: event.ReasonUndecodable, Err: err}, now)
		return
	}
	if r.moved {
		s.follow(ctx, id, key, s.m.nextKey(r.next), now)
		return
	} else if r.dead {
		// Renewed by a request that raced this one: the old ID gives no
		// access, but a logout with it still ends the renewed session.
		next := s.m.nextKey(r.next)
		s.refuse(event.ReasonUnknown, key)
		s.startNew(now, false)
		s.retiredNext, s.superseded = next, next != ""
		return
	}
	if !s.checkBinding(ctx, key, rec, now) || !s.checkActor(ctx, key, rec, r.actor, now) {
		return
	}
	s.id, s.key, s.size = id, key, size
	s.rec = *rec
}

// loadRecord loads the record stored under key, at now: into s.rec itself
// where the store can (store.RecordLoader), sparing a Record per request,
// and returns it. Until the caller has checked it, s.rec is not the
// session's.
func (s *Session) loadRecord(ctx context.Context, key string, now time.Time) (*store.Record, error) {
	var err error
	switch l := s.st.(type) {
	case clockedLoader:
		err = l.loadRecordAt(ctx, key, &s.rec, now)
	case store.RecordLoader:
		err = l.LoadRecord(ctx, key, &s.rec)
	default:
		return s.st.Load(ctx, key)
	}
	if err != nil {
		return nil, err
	}
	return &s.rec, nil
}

// clockedLoader is a store.RecordLoader that takes the time of the call
// from its caller (timedStore), which has just read the clock.
type clockedLoader interface {
	loadRecordAt(ctx context.Context, key string, rec *store.Record, now time.Time) error
}

func expiryReason(rec *store.Record, now time.Time) event.Reason {
	if !now.Before(rec.Deadline) {
		return event.ReasonAbsolute
	}
	return event.ReasonIdle
}

// discard deletes a record that must not be used and starts a fresh
// session in its place. The delete is best effort: the record is dead
// either way, and stores expire it on their own.
func (s *Session) discard(ctx context.Context, key string, rec *store.Record, ev event.Event, now time.Time) {
	s.m.watches.ended(key)
	if err := s.st.Delete(ctx, key); err != nil {
		ev.Err = errors.Join(ev.Err, err)
	}
	ev.Session, ev.UserID, ev.Request = key, rec.UserID, s.r
	s.m.emit(ev)
	s.startNew(now, true)
}

// startNew makes s a new, empty, unstored session. clear says the client
// holds a token that must be expired unless the new session is stored.
func (s *Session) startNew(now time.Time, clear bool) {
	t := s.m.cfg.Timeouts
	s.id, s.key = sessionID{}, ""
	s.rec = store.Record{
		Created:   now,
		LastSeen:  now,
		Deadline:  now.Add(t.Absolute),
		Expires:   now.Add(t.Idle),
		IP:        addrString(s.m.ClientIP(s.r)),
		UserAgent: userAgent(s.r),
	}
	s.vals, s.changed, s.retiredNext, s.superseded = nil, nil, "", false
	s.size, s.cleared, s.metaChanged = 0, false, false
	s.isNew = true
	s.reply.clear = s.reply.clear || clear
}

// follow serves a request that presented an ID rotated away within the
// grace period: it loads the session under the derived next ID and sends
// the client that ID. A session opened by its hash (OpenByHash), which
// has no ID to derive from, follows the key the marker names instead.
func (s *Session) follow(ctx context.Context, id sessionID, key, named string, now time.Time) {
	switch {
	case s.hops >= maxHops, id == (sessionID{}) && named == "":
		s.refuse(event.ReasonUnknown, key)
		s.startNew(now, true)
	case id == (sessionID{}):
		s.hops++
		s.loadKey(ctx, id, named, now)
	default:
		next, ok := s.m.ids.rotated(&id, named)
		if !ok {
			s.refuse(event.ReasonUnknown, key)
			s.startNew(now, true)
			return
		}
		s.hops++
		s.reply.token = true
		s.loadKey(ctx, next, next.hash(), now)
	}
}

// revoked reports whether the app's Config.RevokedBefore revokes rec.
func (m *Manager) revoked(ctx context.Context, rec *store.Record) (bool, error) {
	if m.cfg.RevokedBefore == nil || rec.UserID == "" {
		return false, nil
	}
	cutoff, err := m.cfg.RevokedBefore(ctx, rec.UserID)
	if err != nil {
		return false, fmt.Errorf("keycard: RevokedBefore: %w", err)
	}
	return rec.AuthTime.Before(cutoff), nil
}
