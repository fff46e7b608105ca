package keycard

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// commit saves the session if it changed, touches it if its last activity
// is stale, and writes the cookie headers into h. It runs once, just
// before the response starts.
func (s *Session) commit(h http.Header) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.started = true }()
	if !s.loaded && !s.m.cfg.SaveUninitialized {
		return nil // never used: nothing to do, not even verifying the cookie
	}
	if !s.ensure() {
		return s.loadErr
	}
	addVaryCookie(h)
	if _, set := h["Cache-Control"]; !set && s.rec.UserID != "" {
		h["Cache-Control"] = noStore[:1:1] // a signed-in user's page is personal
	}
	now := s.loadedAt // one clock read per request when there is nothing to write
	if now.IsZero() || s.dirty() {
		now = time.Now()
	}
	if s.rotateDue(now) {
		if err := s.rotate(s.ctx, now); err != nil && !errors.Is(err, ErrSessionGone) {
			return err
		}
	}
	if err := s.persist(s.ctx, now); err != nil {
		return err
	}
	return s.m.carrier.write(h, s, now)
}

// persist writes whatever the session needs: a create, a save, a touch or
// nothing. s.mu must be held.
func (s *Session) persist(ctx context.Context, now time.Time) error {
	switch {
	case s.isNew:
		if s.size == 0 && !s.metaChanged && !s.m.cfg.SaveUninitialized {
			return nil
		}
		return s.save(ctx, now)
	case s.dirty():
		err := s.save(ctx, now)
		if errors.Is(err, ErrSessionGone) {
			s.reply.clear = true // destroyed meanwhile: its changes die with it
			return nil
		}
		return err
	case now.Sub(s.rec.LastSeen) >= s.idle()/10:
		return s.touch(ctx, now)
	}
	return nil
}

func (s *Session) dirty() bool {
	return len(s.changed) > 0 || s.cleared || s.metaChanged
}

// finish saves changes made after the response started. Only changes that
// need no new cookie are possible then (see putRaw); errors can only be
// logged, since the response is already on its way.
func (s *Session) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadErr != nil || s.isNew || !s.dirty() {
		return
	}
	if err := s.save(s.ctx, time.Now()); err != nil && !errors.Is(err, ErrSessionGone) {
		s.m.cfg.Logger.ErrorContext(s.ctx, "keycard: saving late session changes failed", "err", err)
	}
}

// save stores the session with compare-and-set. On a version conflict it
// reloads the record, re-applies only this request's changes on top of it,
// and tries again, a bounded number of times. It returns ErrSessionGone if
// the record was deleted meanwhile. s.mu must be held.
func (s *Session) save(ctx context.Context, now time.Time) error {
	if err := s.admitVisitor(); err != nil {
		return err
	}
	l, done, err := s.takeTurn(ctx, now, nil)
	if done {
		return err
	}
	defer l.leave()
	if err := s.catchUp(l, ""); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := s.saveOnce(ctx, now)
		if err == nil {
			l.record(s)
		}
		if !errors.Is(err, store.ErrConflict) {
			s.storeFull(err)
			return err
		}
		if attempt == maxRetries {
			return fmt.Errorf("keycard: save session: gave up after %d retries: %w", attempt, err)
		}
		if err := s.resolve(ctx, attempt, "", l); err != nil {
			return err
		}
	}
}

// takeTurn takes s's turn among the writers of its session in this
// instance (see lanes). It returns done, with the outcome, when s's changes
// were saved in a batch, by another writer or by s leading it (update, if
// not nil, recomputes an Update's key there); otherwise s saves alone,
// holding the returned lane, which it must leave (nil for a new session,
// whose ID this very save draws). s.mu must be held.
func (s *Session) takeTurn(ctx context.Context, now time.Time, update func(map[string][]byte) error) (l *lane, done bool, err error) {
	if s.isNew || s.key == "" || s.loadErr != nil {
		return nil, false, nil
	}
	queued := s // whose changes a batch may take; nil to wait for a turn alone
	for {
		l, t := s.m.lanes.enter(s.key, queued, update)
		switch {
		case t.served != nil:
			l.done()
			if errors.Is(t.err, errAlone) {
				queued = nil
				continue
			}
			if t.err == nil {
				s.adopt(t.served)
			}
			return nil, true, t.err
		case len(t.batch) > 0:
			err := s.lead(ctx, now, l, t)
			if errors.Is(err, errAlone) {
				return l, false, nil
			}
			l.leave()
			return nil, true, err
		}
		return l, false, nil
	}
}

// catchUp rebases s onto what the previous writer in its lane stored, if
// that is newer than what s loaded, so that its first compare-and-set
// does not fail against a write of this very instance.
func (s *Session) catchUp(l *lane, except string) error {
	if last, ok := l.ahead(s.key, s.rec.Version); ok {
		return s.rebaseOnto(&last, except)
	}
	return nil
}

// resolve readies the next attempt after conflict number attempt: for a
// stored session whose lane (l) is ahead, it rebases onto the lane's
// record at once; otherwise another instance wrote, and it waits a
// random, growing while (see backoff) and rebases onto the stored record.
// Either way it takes except's value from the newer record (Update
// recomputes that one). A new session's conflict is an ID collision, and
// the next attempt draws another ID. s.mu must be held.
func (s *Session) resolve(ctx context.Context, attempt int, except string, l *lane) error {
	if s.isNew {
		return nil
	}
	if last, ok := l.ahead(s.key, s.rec.Version); ok {
		return s.rebaseOnto(&last, except)
	}
	s.m.emit(event.Event{Kind: event.Conflict, Session: s.key, UserID: s.rec.UserID, Request: s.r})
	if err := backoff(ctx, attempt); err != nil {
		return fmt.Errorf("keycard: save session: %w", err)
	}
	return s.rebase(ctx, except)
}

// saveOnce makes one compare-and-set attempt. A new session gets its ID
// here. s.mu must be held.
func (s *Session) saveOnce(ctx context.Context, now time.Time) error {
	if s.isNew {
		if err := s.newID(); err != nil {
			return err
		}
		s.rec.Version = 0
	}
	data, old := s.prepare(now), s.rec.Data
	// s.rec itself goes to the store (a copy would escape to the heap),
	// with the values to save; it keeps them only once they are stored.
	s.rec.Data = data
	err := s.st.Save(ctx, s.key, &s.rec)
	s.rec.Data = old
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return err
		}
		return fmt.Errorf("keycard: save session: %w", err)
	}
	s.saved(data)
	return nil
}

// prepare readies s.rec for a save at now and returns the session's
// values, encoded. s.mu must be held.
func (s *Session) prepare(now time.Time) []byte {
	s.rec.LastSeen = now
	s.rec.Expires = s.idleDeadline(now)
	if s.vals != nil {
		return encodeValues(s.vals)
	}
	return s.rec.Data
}

// saved takes note that s.rec, with data as its values, is stored. s.mu
// must be held.
func (s *Session) saved(data []byte) {
	s.rec.Version++
	s.rec.Data = data
	if s.isNew {
		s.isNew, s.reply.token, s.reply.clear = false, true, false
		s.m.emit(event.Event{Kind: event.Created, Session: s.key, UserID: s.rec.UserID, Request: s.r})
	}
	s.changed = s.changed[:0]
	s.cleared, s.metaChanged = false, false
}

// idleDeadline returns when the session expires if idle from now.
func (s *Session) idleDeadline(now time.Time) time.Time {
	return minTime(now.Add(s.idle()), s.rec.Deadline)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// newID draws a fresh session ID.
func (s *Session) newID() error {
	if _, err := io.ReadFull(s.m.cfg.IDSource, s.id[:]); err != nil {
		return fmt.Errorf("keycard: new session ID: %w", err)
	}
	s.key = s.id.hash()
	return nil
}

// rebase reloads the stored record and re-applies this request's changes
// on top of it. s.mu must be held.
func (s *Session) rebase(ctx context.Context, except string) error {
	fresh, err := s.reload(ctx)
	if err != nil {
		return err
	}
	return s.rebaseOnto(fresh, except)
}

// rebaseOnto re-applies this request's changes on top of fresh, a newer
// record of the session, taking except's value from fresh. s.mu must be
// held.
func (s *Session) rebaseOnto(fresh *store.Record, except string) error {
	if _, err := checkValues(fresh.Data); err != nil {
		return fmt.Errorf("%w: stored values undecodable: %v", ErrSessionGone, err)
	}
	theirs := decodeValues(fresh.Data)
	merged := theirs
	if s.cleared {
		merged = make(map[string][]byte, len(s.changed))
	}
	ours := s.values()
	for _, k := range s.changed {
		src := ours
		if k == except {
			src = theirs
		}
		if raw, ok := src[k]; ok {
			merged[k] = raw
		} else {
			delete(merged, k)
		}
	}
	s.takeRecord(fresh)
	s.vals, s.size = merged, 0
	for k, raw := range merged {
		s.size += len(k) + len(raw) + entryOverhead
	}
	return nil
}

// takeRecord takes fresh's version, creation, activity and stored values,
// and its metadata (the absolute deadline included, which RememberMe
// changes) unless this request changed s's, so that s saves over fresh,
// and a request that then saves nothing touches the record if fresh's
// activity is stale (a failed save's prepare may have set s's to now).
// s.mu must be held.
func (s *Session) takeRecord(fresh *store.Record) {
	if !s.metaChanged {
		s.rec.UserID, s.rec.AuthTime, s.rec.Persistent = fresh.UserID, fresh.AuthTime, fresh.Persistent
		s.rec.IP, s.rec.UserAgent, s.rec.Deadline = fresh.IP, fresh.UserAgent, fresh.Deadline
	}
	s.rec.Version, s.rec.Created = fresh.Version, fresh.Created
	s.rec.LastSeen, s.rec.Expires = fresh.LastSeen, fresh.Expires
	s.rec.Data = fresh.Data
}

// reload loads the session's current record for a rebase. If the session
// was rotated meanwhile, it follows the rotation: the session moves to the
// new ID (and the client will get it). s.mu must be held.
func (s *Session) reload(ctx context.Context) (*store.Record, error) {
	for hop := 0; ; hop++ {
		fresh, err := s.st.Load(ctx, s.key)
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrSessionGone
		}
		if err != nil {
			return nil, fmt.Errorf("keycard: reload session: %w", err)
		}
		next, dead, moved := markers(fresh.Data)
		if dead {
			return nil, ErrSessionGone
		}
		if !moved {
			return fresh, nil
		}
		if hop == maxHops {
			return nil, ErrSessionGone
		}
		named := s.m.nextKey(next)
		if s.id == (sessionID{}) {
			// Opened by hash: no ID to derive from, so follow the key
			// the marker names, as load does.
			if s.key = named; s.key == "" {
				return nil, ErrSessionGone
			}
			continue
		}
		id, ok := s.m.ids.rotated(&s.id, named)
		if !ok {
			return nil, ErrSessionGone
		}
		s.id = id
		s.key, s.reply.token = s.id.hash(), true
	}
}

// touch records activity without rewriting the session. s.mu must be held.
func (s *Session) touch(ctx context.Context, now time.Time) error {
	expires := s.idleDeadline(now)
	err := s.st.Touch(ctx, s.key, now, expires)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.reply.clear = true // destroyed meanwhile
		return nil
	case err != nil:
		return fmt.Errorf("keycard: touch session: %w", err)
	}
	s.rec.LastSeen, s.rec.Expires = now, expires
	return nil
}

// noStore is the Cache-Control value of personal responses; like
// varyCookie, it is shared with a capacity equal to its length.
var noStore = []string{"no-store"}

// varyCookie is the Vary value of responses that used the session. Its
// capacity equals its length, so an append by anyone copies it.
var varyCookie = []string{"Cookie"}

// addVaryCookie marks the response as depending on the Cookie header.
func addVaryCookie(h http.Header) {
	vary, ok := h["Vary"]
	if !ok {
		h["Vary"] = varyCookie[:1:1]
		return
	}
	for _, v := range vary {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); strings.EqualFold(f, "Cookie") || f == "*" {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
}

// Retry backoff: a conflicting writer waits a random time up to
// min(backoffBase << attempt, backoffCap) before rebasing, so that many
// writers racing on one session spread out instead of colliding again.
const (
	backoffBase = 200 * time.Microsecond
	backoffCap  = 25 * time.Millisecond
)

// backoff sleeps before retry number attempt, or returns ctx's error.
func backoff(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil // the first rebase is immediate
	}
	limit := backoffCap
	if attempt < 16 && backoffBase<<attempt < backoffCap {
		limit = backoffBase << attempt
	}
	t := time.NewTimer(randBelow(limit))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// randBelow returns a random duration in [0, d), for spreading retries and
// checks in time; d must be positive.
func randBelow(d time.Duration) time.Duration {
	var b [8]byte
	rand.Read(b[:])
	return time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(d))
}
