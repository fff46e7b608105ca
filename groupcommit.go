package keycard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// Group commit: the writers of one session that queue in its lane while a
// turn's save is in flight hand their changes to the writer whose turn is
// next, which applies them all, in arrival order, onto the newest record
// and saves the result in one compare-and-set. Each served writer then
// takes the stored record as its own. An Update's function runs again on
// the values it is applied to, so concurrent increments still add up
// exactly. A writer that changed the session's metadata (a login, say),
// or whose records are its own (sealed sessions), waits for a turn alone;
// a batch that cannot be saved as one (see errAlone) hands each writer
// back its own changes to save alone.

// A change is one writer's unsaved changes to a session's values, kept
// apart so that another writer can apply them onto a newer record.
type change struct {
	cleared bool     // the values were cleared first
	keys    []string // the keys changed
	raws    [][]byte // their encoded values; nil: deleted
	// update, for an Update, recomputes its key from the values it is
	// given, setting it there; nil for a plain save.
	update func(vals map[string][]byte) error
}

// pending returns s's unsaved changes, with update (which may be nil), or
// nil if s changed more than values. s.mu must be held.
func (s *Session) pending(update func(map[string][]byte) error) *change {
	if s.metaChanged || !s.loaded || s.loadErr != nil {
		return nil
	}
	if _, own := s.st.(*cookieRecords); own {
		return nil // sealed: each request saves to its own cookie, not another's
	}
	vals := s.values()
	c := &change{cleared: s.cleared, keys: slices.Clone(s.changed), raws: make([][]byte, len(s.changed)), update: update}
	for i, k := range c.keys {
		c.raws[i] = vals[k] // nil if deleted; encoded values are never nil
	}
	return c
}

// apply makes c's changes to vals, which it returns (a new map if c
// cleared the values).
func (c *change) apply(vals map[string][]byte) (map[string][]byte, error) {
	if c.cleared {
		vals = make(map[string][]byte, len(c.keys))
	}
	for i, k := range c.keys {
		if raw := c.raws[i]; raw != nil {
			vals[k] = raw
		} else {
			delete(vals, k)
		}
	}
	if c.update != nil {
		return vals, c.update(vals)
	}
	return vals, nil
}

// A batchResult is what a turn stored for the writers it served.
type batchResult struct {
	rec  store.Record // as stored, values included
	size int
}

// errAlone tells a writer that its batch could not be saved as one (the
// session moved to another key meanwhile, the batch would pass MaxSize,
// the leading request went away, or a function panicked): it saves its
// own changes alone.
var errAlone = errors.New("keycard: save alone")

// lead saves s's changes (t.own) and those of the writers in t.batch,
// applied in that order onto the newest record of the session, in one
// compare-and-set, and tells each served writer the outcome. It returns
// s's own outcome; errAlone means s must save alone, its state as before.
// s holds l; s.mu must be held.
func (s *Session) lead(ctx context.Context, now time.Time, l *lane, t laneTurn) error {
	changes := make([]*change, 0, 1+len(t.batch))
	changes = append(changes, t.own)
	for _, w := range t.batch {
		changes = append(changes, w.c)
	}
	errs := make([]error, len(changes))
	before := s.state()
	told := false // the served writers have been told the outcome
	defer func() {
		if !told {
			// A function (an Update's, the Codec's, the store's) panicked:
			// the served writers save alone, and the lane is not left held.
			s.restoreState(before)
			for _, w := range t.batch {
				w.turn <- laneTurn{served: &batchResult{}, err: errAlone}
			}
			l.leave()
		}
	}()
	base := &store.Record{}
	if last, ok := l.ahead(s.key, s.rec.Version); ok {
		*base = last
	} else {
		*base = s.rec
	}
	var err error
	for attempt := 0; ; attempt++ {
		if err = s.combine(base, changes, errs); err != nil {
			break
		}
		err = s.saveOnce(ctx, now)
		s.storeFull(err)
		if err == nil {
			l.record(s)
			res := &batchResult{rec: s.rec, size: s.size}
			told = true
			for i, w := range t.batch {
				w.turn <- laneTurn{served: res, err: errs[i+1]}
			}
			return errs[0]
		}
		if !errors.Is(err, store.ErrConflict) {
			break
		}
		if attempt == maxRetries {
			err = fmt.Errorf("keycard: save session: gave up after %d retries: %w", attempt, err)
			break
		}
		// Another instance wrote: wait as a lone writer would, then
		// start again from the stored record.
		s.m.emit(event.Event{Kind: event.Conflict, Session: s.key, UserID: s.rec.UserID, Request: s.r})
		if err = backoff(ctx, attempt); err != nil {
			err = fmt.Errorf("keycard: save session: %w", err)
			break
		}
		if base, err = s.fresh(ctx); err != nil {
			break
		}
	}
	s.restoreState(before)
	theirs := err
	if ctx.Err() != nil {
		theirs = errAlone // s's request went away, not theirs: they save alone
	}
	told = true
	for _, w := range t.batch {
		w.turn <- laneTurn{served: &batchResult{}, err: theirs}
	}
	return err
}

// combine sets s's values to base's with changes applied in order, ready
// to save over base, noting in errs the changes whose update failed
// (their other changes stand). s.mu must be held.
func (s *Session) combine(base *store.Record, changes []*change, errs []error) error {
	if _, err := checkValues(base.Data); err != nil {
		return fmt.Errorf("%w: stored values undecodable: %v", ErrSessionGone, err)
	}
	vals := decodeValues(base.Data)
	keys := keySet{}
	for i, c := range changes {
		var err error
		vals, err = c.apply(vals)
		errs[i] = err
		for _, k := range c.keys {
			keys.add(k)
		}
	}
	s.takeRecord(base)
	s.vals, s.changed, s.cleared = vals, keys, false
	s.size = 0
	for k, raw := range vals {
		s.size += len(k) + len(raw) + entryOverhead
	}
	if s.size > s.m.cfg.MaxSize {
		// Past MaxSize: each writer saves alone, so that an Update that
		// would pass it is refused with ErrTooLarge, as Put checks.
		return errAlone
	}
	return nil
}

// fresh loads the session's stored record for another attempt of a
// batch; a session moved to another key meanwhile returns errAlone.
func (s *Session) fresh(ctx context.Context) (*store.Record, error) {
	rec, err := s.st.Load(ctx, s.key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrSessionGone
	case err != nil:
		return nil, fmt.Errorf("keycard: reload session: %w", err)
	}
	if _, dead, moved := markers(rec.Data); dead || moved {
		return nil, errAlone
	}
	return rec, nil
}

// adopt takes res, the record a batch stored with s's changes in it, as
// s's own. s.mu must be held.
func (s *Session) adopt(res *batchResult) {
	s.rec = res.rec
	s.vals, s.size = nil, res.size
	s.changed, s.cleared = s.changed[:0], false
}

// sessionState is what a batch changes of its leader's session, kept to
// put back when the batch fails.
type sessionState struct {
	rec     store.Record
	vals    map[string][]byte
	size    int
	changed keySet
	cleared bool
}

func (s *Session) state() sessionState {
	return sessionState{s.rec, maps.Clone(s.vals), s.size, slices.Clone(s.changed), s.cleared}
}

func (s *Session) restoreState(st sessionState) {
	s.rec, s.vals, s.size, s.changed, s.cleared = st.rec, st.vals, st.size, st.changed, st.cleared
}
