package keycard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// Get returns the value stored under key, decoded as a T, and whether
// there was one. A value that cannot be decoded as a T (the type changed
// since it was stored, say) reads as absent, is left in place, and is
// reported as an event.Rejected with event.ReasonUndecodable.
func Get[T any](s *Session, key string) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get[T](s, key)
}

func get[T any](s *Session, key string) (T, bool) {
	var zero T
	if !s.ensure() {
		return zero, false
	}
	raw, ok := s.value(key)
	if !ok {
		return zero, false
	}
	if s.m.cfg.Codec == Codec(defaultCodec) {
		var v T // on the stack: decodeCommon keeps no reference to it
		if decodeCommon(raw, &v) {
			return v, true
		}
	}
	return decode[T](s, key, raw)
}

// decode decodes raw, the value under key, with the Manager's Codec.
func decode[T any](s *Session, key string, raw []byte) (T, bool) {
	var v T
	if err := s.m.cfg.Codec.Unmarshal(raw, &v); err != nil {
		s.m.emit(event.Event{Kind: event.Rejected, Reason: event.ReasonUndecodable, Session: s.key, UserID: s.rec.UserID,
			Err: fmt.Errorf("keycard: value %q: %w", key, err), Request: s.r})
		var zero T
		return zero, false
	}
	return v, true
}

// Update atomically replaces the value under key with fn applied to it (the
// zero T if absent), and returns the new value. It saves at once with
// compare-and-set, and on a conflict with a concurrent request, on this
// instance or another, it reloads the stored value and calls fn again, so
// N concurrent increments always add exactly N. Concurrent writers of one
// session in this instance are saved together, in one compare-and-set,
// fn being applied to the value the writer before left: fn may be called
// more than once, possibly on another request's goroutine, and must not
// use the session. Other changes the request made are saved along with
// it.
//
// Update returns ErrSessionGone if the session was destroyed meanwhile, and
// ErrResponseStarted for a new session once the response has started.
func Update[T any](ctx context.Context, s *Session, key string, fn func(T) T) (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero T
	wasChanged := s.changed.has(key)
	s.ensure() // the lane is the loaded session's; a load error shows below
	var result T
	recompute := func(vals map[string][]byte) error {
		var old T
		if raw, ok := vals[key]; ok {
			old, _ = decode[T](s, key, raw) // undecodable reads as absent, as in Get
		}
		v := fn(old)
		raw, err := s.m.cfg.Codec.Marshal(v)
		if err != nil {
			return err
		}
		vals[key], result = raw, v
		return nil
	}
	l, done, err := s.takeTurn(ctx, time.Now(), recompute)
	if done {
		if err != nil {
			return zero, fmt.Errorf("keycard: update %q: %w", key, err)
		}
		return result, nil
	}
	defer l.leave()
	if err := s.catchUp(l, key); err != nil {
		return zero, fmt.Errorf("keycard: update %q: %w", key, err)
	}
	if err := s.admitVisitor(); err != nil {
		return zero, fmt.Errorf("keycard: update %q: %w", key, err)
	}
	for attempt := 0; ; attempt++ {
		old, _ := get[T](s, key)
		v := fn(old)
		raw, err := s.m.cfg.Codec.Marshal(v)
		if err != nil {
			return zero, fmt.Errorf("keycard: update %q: %w", key, err)
		}
		prev, had := s.value(key)
		if err := s.putRaw(key, raw); err != nil {
			return zero, err
		}
		err = s.saveOnce(ctx, time.Now())
		if err == nil {
			l.record(s)
			return v, nil
		}
		s.storeFull(err)
		if errors.Is(err, store.ErrConflict) && attempt < maxRetries {
			if err = s.resolve(ctx, attempt, key, l); err == nil {
				continue // fn runs again on the stored value
			}
		}
		// Undo the put, so that the request's commit does not save a
		// value the caller was told failed.
		s.restore(key, prev, had, wasChanged)
		if errors.Is(err, store.ErrConflict) {
			err = fmt.Errorf("gave up after %d retries: %w", attempt, store.ErrConflict)
		}
		return zero, fmt.Errorf("keycard: update %q: %w", key, err)
	}
}
