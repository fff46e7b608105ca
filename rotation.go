package keycard

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// Periodic rotation (Config.RotateEvery) moves a session to a new ID while
// it is in use, so a stolen ID stops working without a logout. The new ID
// is derived from the old one with a keyed HMAC, never stored: a request
// that still presents the old ID during the grace period (a parallel
// request in flight) finds a tombstone under the old key, derives the new
// ID itself, is served the live session and receives the new cookie. After
// the grace period the tombstone expires and the old ID is dead.

const (
	renewedKey = reservedPrefix + "renewed" // when the ID last changed, Unix nanoseconds
	movedKey   = reservedPrefix + "moved"   // marks a tombstone left by rotation
	deadKey    = reservedPrefix + "dead"    // marks the record a renewal left behind
	nonceKey   = reservedPrefix + "nonce"   // makes each marker its move's own (see retire)
)

// IsTombstone reports whether rec is the short-lived marker that periodic
// rotation or renewal leaves under a retired ID, rather than a session.
// Administration tools that count or list records skip these.
func IsTombstone(rec *store.Record) bool {
	return retired(rec)
}

// markerLife bounds how long a renewal's marker outlives the renewal: long
// enough for a logout that loaded the session just before to find it.
const markerLife = 5 * time.Second

// maxHops bounds how many tombstones one load follows.
const maxHops = 2

// rotateDue reports whether the session should rotate now. s.mu must be
// held and the session loaded.
func (s *Session) rotateDue(now time.Time) bool {
	m := s.m
	if m.cfg.RotateEvery <= 0 || s.isNew || s.byHash != "" || !m.carrier.reissues() {
		return false
	}
	last := s.rec.Created
	if n, ok := get[int64](s, renewedKey); ok {
		last = time.Unix(0, n)
	}
	return now.Sub(last) >= m.cfg.RotateEvery && !s.holdsIDScoped()
}

// rotate moves the session to its derived next ID and leaves a tombstone
// under the old key for the grace period. It holds the old key's turn
// among this instance's writers (see lanes) throughout, so that none of
// them moves the old record while it is replaced; they queue, then follow
// the tombstone. Until the tombstone is stored, no other request writes
// the new key: one that finds it taken goes on under the old key, and the
// rotation that took it absorbs its write when it retires the old record.
// s.mu must be held.
func (s *Session) rotate(ctx context.Context, now time.Time) error {
	l := s.moveTurn()
	defer l.leave()
	if raw, err := s.m.cfg.Codec.Marshal(now.UnixNano()); err == nil {
		s.values()[renewedKey] = raw
		s.markChanged(renewedKey)
	}
	if err := s.catchUp(l, ""); err != nil {
		return err
	}
	oldKey, oldID, oldVersion := s.key, s.id, s.rec.Version
	pending := s.ownChanges() // kept for absorb
	next := s.m.ids.next(&s.id)
	s.id, s.key = next, next.hash()
	err := s.moveAtOnce(ctx, oldKey, oldVersion, movedKey, now)
	switch {
	case err == nil:
		s.reply.token = true
		s.m.emit(event.Event{Kind: event.Renewed, Reason: event.ReasonRotate, Session: s.key, UserID: s.rec.UserID, Request: s.r})
		return nil
	case !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrUnsupported):
		s.id, s.key, s.rec.Version = oldID, oldKey, oldVersion
		return err
	}
	s.rec.Version = 0
	err = s.saveOnce(ctx, now)
	if errors.Is(err, store.ErrConflict) {
		// A parallel request rotated first, to the same ID. Follow it from
		// the old key: to the new one if its move is done, otherwise this
		// request saves under the old key and that rotation absorbs it.
		return s.stay(ctx, oldID, pending)
	}
	if err != nil {
		s.id, s.key, s.rec.Version = oldID, oldKey, oldVersion
		return err
	}
	switch err := s.retire(ctx, oldKey, oldVersion, movedKey, false, pending, now); {
	case errors.Is(err, errStillLive), errors.Is(err, ErrSessionGone):
		// The old record kept changing, or another request moved the
		// session meanwhile (an instance whose newest key is another) or
		// ended it: the move is undone, and the session goes on from the
		// old key, following it to wherever it went, and rotates on a
		// later request.
		return s.stay(ctx, oldID, pending)
	case err != nil:
		s.id, s.key, s.rec.Version = oldID, oldKey, oldVersion
		return err
	}
	s.reply.token = true
	s.m.emit(event.Event{Kind: event.Renewed, Reason: event.ReasonRotate, Session: s.key, UserID: s.rec.UserID, Request: s.r})
	return nil
}

// stay puts s back under the ID it had before a rotation that did not
// move it, oldID, with this request's changes (pending) on the stored
// record, following that record if another rotation moved it meanwhile.
// The rotation's own stamp (renewedKey) is dropped from the changes, so
// that a rotation still counts as due until one moves the session. s.mu
// must be held.
func (s *Session) stay(ctx context.Context, oldID sessionID, pending ownChanges) error {
	s.id, s.key = oldID, oldID.hash()
	s.changed, s.cleared = pending.keys, pending.cleared
	s.changed.remove(renewedKey)
	return s.rebase(ctx, "")
}

// ownChanges is what a move keeps of this request's changes, to apply
// them onto a newer copy of the old record (see absorb) or to save them
// under the old key again (see stay): a save in between forgets them.
type ownChanges struct {
	keys    keySet // the keys changed
	cleared bool   // the values were cleared first
}

// ownChanges returns a copy of this request's changes. s.mu must be held.
func (s *Session) ownChanges() ownChanges {
	return ownChanges{keys: slices.Clone(s.changed), cleared: s.cleared}
}

// moveTurn takes the turn of s's stored key among this instance's writers
// of the session, alone, for a move to another key (a rotation or a
// renewal). The caller leaves the returned lane when the move is done; a
// new session has none (nil). s.mu must be held.
func (s *Session) moveTurn() *lane {
	if s.isNew || s.key == "" || s.loadErr != nil {
		return nil
	}
	l, _ := s.m.lanes.enter(s.key, nil, nil)
	return l
}

// errStillLive is retire's report that the old record took a write on
// every attempt: the move was undone, and the session lives under its old
// key alone.
var errStillLive = errors.New("keycard: the old record kept changing")

// retire replaces the record under oldKey, which this request loaded at
// oldVersion, with a short-lived marker: movedKey for a rotation (the
// record forwards to the derived next ID), deadKey for a renewal (the old
// ID simply stops working). The replacement is a compare-and-set: if the
// old record took a write since it was loaded (another instance's, since
// the caller holds this instance's turn), that write is merged into the
// new record first, and the next attempt waits as a conflicting save does
// (see backoff). If the old record is gone or was retired by a racing
// request (a logout, another renewal), retire deletes the new record, so
// the race cannot fork or resurrect the session, and returns
// ErrSessionGone, unless keep says the new record stands on its own (a
// login). A marker save that fails may have landed all the same (a
// timeout, or a retried save reporting a conflict): retire then looks,
// and its own marker (by its nonce) means the move is done. If retire
// fails otherwise (errStillLive when every attempt conflicted), it has
// deleted the new record, which no other request can have written before
// the marker named it: the session stays under the old key alone, never
// in two live records; only when it cannot look does it keep the new
// record, rather than risk losing the session. s.mu must be held.
func (s *Session) retire(ctx context.Context, oldKey string, oldVersion uint64, marker string, keep bool, pending ownChanges, now time.Time) error {
	for attempt := 0; ; attempt++ {
		tomb, err := s.markerRecord(oldVersion, marker, now)
		if err != nil {
			return s.undoMove(ctx, err)
		}
		err = s.st.Save(ctx, oldKey, &tomb)
		if err == nil {
			s.m.watches.moved(oldKey, s.key, s.rec.UserID)
			return nil
		}
		// The marker may have been written all the same: after a timeout,
		// or reported as a conflict by a client that retried the save
		// after a lost reply. Look before going on.
		switch landed, lerr := s.landed(ctx, oldKey, &tomb); {
		case landed:
			s.m.watches.moved(oldKey, s.key, s.rec.UserID)
			return nil
		case lerr != nil:
			// Cannot tell: keep the new record, which nothing names
			// unless the marker landed, rather than risk losing it.
			return wrapRotate(errors.Join(err, lerr))
		case !errors.Is(err, store.ErrConflict):
			return s.undoMove(ctx, err)
		}
		if attempt == maxRetries {
			return s.undoMove(ctx, errStillLive)
		}
		if err := backoff(ctx, attempt); err != nil {
			return s.undoMove(ctx, err)
		}
		fresh, err := s.loadOld(ctx, &oldKey, marker)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return s.abandon(ctx, keep)
		case err != nil:
			return s.undoMove(ctx, err)
		}
		// A marker here means another request moved the session since:
		// a rotation to this same ID would have failed this request's
		// create, so the record it made is gone (a logout, a revoke) or
		// the rotation went elsewhere (instances with other keys). Either
		// way this record must not live on.
		if _, dead, moved := markers(fresh.Data); dead || moved {
			return s.abandon(ctx, keep)
		}
		if err := s.absorb(ctx, fresh, pending, now); err != nil {
			return s.undoMove(ctx, err)
		}
		oldVersion = fresh.Version
	}
}

// loadOld loads the record under *oldKey for retire's next attempt. A
// renewal (marker deadKey) that finds there the marker of a rotation made
// meanwhile (by another instance) follows it, and sets *oldKey to the
// record the session was rotated to, which it then retires instead:
// otherwise the rotated copy would outlive the renewal, and the old ID
// would still lead to it. s.mu must be held.
func (s *Session) loadOld(ctx context.Context, oldKey *string, marker string) (*store.Record, error) {
	for hop := 0; ; hop++ {
		fresh, err := s.st.Load(ctx, *oldKey)
		if err != nil {
			return nil, err
		}
		next, _, moved := markers(fresh.Data)
		succ := s.m.nextKey(next)
		if !moved || marker != deadKey || hop == maxHops || succ == "" || succ == s.key {
			return fresh, nil
		}
		*oldKey = succ
	}
}

// landed reports whether the record under oldKey is tomb, the marker
// this move tried to save there: its nonce makes it this move's own. It
// looks even if ctx is done. s.mu must be held.
func (s *Session) landed(ctx context.Context, oldKey string, tomb *store.Record) (bool, error) {
	rec, err := s.st.Load(context.WithoutCancel(ctx), oldKey)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return bytes.Equal(rec.Data, tomb.Data), nil
}

// undoMove deletes the record a move created under s.key, after the move
// failed with err, which it returns wrapped. The delete runs even if ctx
// is done, so that a request that went away leaves no second record. s.mu
// must be held.
func (s *Session) undoMove(ctx context.Context, err error) error {
	if derr := s.st.Delete(context.WithoutCancel(ctx), s.key); derr != nil {
		err = errors.Join(err, derr)
	}
	return wrapRotate(err)
}

// markerRecord returns the marker (movedKey or deadKey) that replaces
// the record loaded at oldVersion, once the session is stored under its
// new key. The marker names the new key, so that a racing logout (see
// bury) or a revoke by the old hash, from a device list loaded before the
// move, finds and deletes it too; the key is a hash, not a credential.
// The grace period is the marker's absolute deadline, so not even a touch
// from a request still in flight can extend it.
func (s *Session) markerRecord(oldVersion uint64, marker string, now time.Time) (store.Record, error) {
	next, err := s.m.cfg.Codec.Marshal(s.key)
	if err != nil {
		return store.Record{}, err
	}
	var b [8]byte
	rand.Read(b[:])
	nonce, err := s.m.cfg.Codec.Marshal(hex.EncodeToString(b[:]))
	if err != nil {
		return store.Record{}, err
	}
	life := s.m.cfg.RotationGrace
	if marker == deadKey {
		life = min(life, markerLife)
	}
	end := minTime(now.Add(life), s.rec.Deadline)
	return store.Record{
		Version: oldVersion, Created: s.rec.Created, LastSeen: now,
		Expires: end, Deadline: end,
		Data: encodeValues(map[string][]byte{marker: next, nonceKey: nonce}),
	}, nil
}

// moveAtOnce stores s under its new key (s.key, drawn by the caller) and
// the marker that replaces the record under oldKey, loaded at oldVersion,
// in one store call, where the store is a store.Batcher: a renewal or
// rotation in one round trip. It returns store.ErrUnsupported or
// store.ErrConflict, having written nothing, when the store cannot batch,
// when the old record changed since it was loaded, or when a parallel
// rotation stored the new key first; the caller then takes the path of
// one save at a time (save, then retire), which resolves each of those.
// s.mu must be held.
func (s *Session) moveAtOnce(ctx context.Context, oldKey string, oldVersion uint64, marker string, now time.Time) error {
	b, ok := s.st.(store.Batcher)
	if !ok {
		return store.ErrUnsupported
	}
	s.rec.Version = 0
	data := s.prepare(now) // before the copy: it sets the activity times
	rec := s.rec
	rec.Data = data
	tomb, err := s.markerRecord(oldVersion, marker, now)
	if err != nil {
		return err
	}
	if err := b.SaveBatch(ctx, []store.Entry{{Key: s.key, Record: &rec}, {Key: oldKey, Record: &tomb}}); err != nil {
		if errors.Is(err, store.ErrUnsupported) {
			return err // nothing written
		}
		if landed, _ := s.landed(ctx, oldKey, &tomb); landed {
			// Written all the same (a retried script reports a conflict):
			// the batch is atomic, so the new record is there too.
			s.saved(rec.Data)
			s.m.watches.moved(oldKey, s.key, s.rec.UserID)
			return nil
		}
		s.storeFull(err)
		if errors.Is(err, store.ErrConflict) {
			return err
		}
		return fmt.Errorf("keycard: save session: %w", err)
	}
	s.saved(rec.Data)
	s.m.watches.moved(oldKey, s.key, s.rec.UserID)
	return nil
}

// retired reports whether rec is a marker left by rotation or renewal.
func retired(rec *store.Record) bool {
	_, dead, moved := markers(rec.Data)
	return moved || dead
}

// markers finds, in one pass over a values envelope, whether it holds a
// renewal's marker or a rotation's, and the marker's value: the encoded
// key of the record that replaced it (a rotation marker written before
// markers named their successor holds true instead). Keys are sorted, and
// the reserved ones sort after most application keys' first letters, so
// the scan usually stops early.
func markers(data []byte) (nextRaw []byte, dead, moved bool) {
	r := scanReserved(data)
	return r.next, r.dead, r.moved
}

// reserved is what one pass over a values envelope finds of the reserved
// keys a load acts on: a renewal's or rotation's marker and its value, and
// an impersonation's actor.
type reserved struct {
	next, actor []byte
	dead, moved bool
}

// scanReserved reads data's markers and actor in one pass, stopping past
// the last of them in key order (actorKey < deadKey < movedKey).
func scanReserved(data []byte) reserved {
	var r reserved
	env, _ := openEnvelope(data)
	for {
		k, raw, ok := env.next()
		if !ok || string(k) > movedKey {
			return r
		}
		r.note(k, raw)
	}
}

// note records key's value in r if key is one of the reserved keys r
// holds.
func (r *reserved) note(key, raw []byte) {
	switch string(key) {
	case actorKey:
		r.actor = raw
	case deadKey:
		r.next, r.dead = raw, true
	case movedKey:
		r.next, r.moved = raw, true
	}
}

// abandon deletes the record this request just created for a session that
// turned out to be gone, and reports ErrSessionGone; with keep (a login,
// whose user has just authenticated afresh) the new record stands on its
// own instead.
func (s *Session) abandon(ctx context.Context, keep bool) error {
	if keep {
		return nil
	}
	if err := s.st.Delete(context.WithoutCancel(ctx), s.key); err != nil {
		return wrapRotate(err)
	}
	return ErrSessionGone
}

// absorb merges the values of a newer copy of the old record into the new
// record, and saves the new record: this request's own changes (pending)
// win, and if it cleared the values (a login as another user), none of
// the old record's values come across.
func (s *Session) absorb(ctx context.Context, fresh *store.Record, pending ownChanges, now time.Time) error {
	if _, err := checkValues(fresh.Data); err != nil {
		return wrapRotate(err)
	}
	merged := decodeValues(fresh.Data)
	if pending.cleared {
		merged = make(map[string][]byte, len(pending.keys))
	}
	ours := s.values()
	for _, k := range pending.keys {
		if raw, ok := ours[k]; ok {
			merged[k] = raw
		} else {
			delete(merged, k)
		}
	}
	s.vals, s.size = merged, 0
	for k, raw := range merged {
		s.size += len(k) + len(raw) + entryOverhead
	}
	return wrapRotate(s.saveOnce(ctx, now))
}

func wrapRotate(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("keycard: rotate session: %w", err)
}
