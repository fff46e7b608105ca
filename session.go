package keycard

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/keycard-go/keycard/store"
)

// A Session is one client's server-side state for the current request. Get
// it with FromContext. It loads lazily: a handler that never touches the
// session costs no store call. Changes are saved when the response starts,
// with one store write, and only if something changed.
//
// A Session is safe for concurrent use by the goroutines of one request. It
// must not be used after the request's handler returns.
type Session struct {
	m   *Manager
	r   *http.Request
	ctx context.Context
	st  store.Store // the carrier's records: m's store, or the request's own

	mu sync.Mutex

	w    responseWriter // the response, wrapped by the middleware
	rctx requestContext // the request's context, carrying s

	// What the request presented: the session cookie's value and how many
	// cookies carried its name. It is verified when the session loads.
	cookie     string
	cookies    int32 // at most 2: two or more are refused alike
	hops       int16 // rotation tombstones followed while loading
	loaded     bool
	superseded bool // this request raced a renewal (to retiredNext): no writes, no cookie

	retiredNext string // the record the presented ID was just renewed to
	byHash      string // set by OpenByHash: the session is named by its hash

	loadedAt time.Time // when it loaded: the time of a commit with nothing to write
	loadErr  error

	id          sessionID
	key         string            // store key; "" until the session is stored
	rec         store.Record      // as stored; its Data is the values envelope
	vals        map[string][]byte // the values, once changed; nil means rec.Data
	size        int               // accounted size of the values
	changed     keySet
	cleared     bool
	metaChanged bool
	isNew       bool  // no stored record under key
	started     bool  // the response has started: the token can no longer change
	reply       reply // what the client must receive
}

// ensure loads the session if needed and reports whether it is usable.
// s.mu must be held.
func (s *Session) ensure() bool {
	if !s.loaded {
		s.load(s.ctx)
	}
	return s.loadErr == nil
}

// Err reports why the session could not be loaded (a store failure), or
// nil. When it is not nil the session reads as empty, changes are refused,
// and the middleware answers with Config.ErrorHandler instead of the
// handler's response.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensure()
	return s.loadErr
}

// Put stores a copy of value under key, encoded with the Manager's Codec.
// It returns an error, and changes nothing, when the value cannot be
// encoded, when it would take the session past Config.MaxSize
// (ErrTooLarge), when the session could not be loaded, or when the response
// has already started and this is a new session whose cookie can no longer
// be set (ErrResponseStarted).
func (s *Session) Put(key string, value any) error {
	raw, err := s.m.cfg.Codec.Marshal(value)
	if err != nil {
		return fmt.Errorf("keycard: put %q: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putRaw(key, raw)
}

// putRaw stores an encoded value. s.mu must be held.
func (s *Session) putRaw(key string, raw []byte) error {
	if !s.ensure() {
		return s.loadErr
	}
	if s.superseded {
		// The presented ID was renewed by a request that raced this one; a
		// fresh session here would replace the renewed cookie in the client.
		return ErrSessionGone
	}
	if s.started && (s.isNew || s.m.cfg.Store == nil) {
		return ErrResponseStarted // the token would have to change (with no store, it holds the data)
	}
	size := s.size + len(key) + len(raw) + entryOverhead
	if old, ok := s.value(key); ok {
		size -= len(key) + len(old) + entryOverhead
	}
	if size > s.m.cfg.MaxSize {
		return fmt.Errorf("%w: %q would make it %d bytes, limit %d", ErrTooLarge, key, size, s.m.cfg.MaxSize)
	}
	s.values()[key] = raw
	s.size = size
	s.markChanged(key)
	return nil
}

// restore puts key back as it was before a failed change: its previous
// encoded value (or absence) and whether the request had changed it. s.mu
// must be held.
func (s *Session) restore(key string, prev []byte, had, wasChanged bool) {
	vals := s.values()
	if cur, ok := vals[key]; ok {
		s.size -= len(key) + len(cur) + entryOverhead
	}
	if had {
		vals[key] = prev
		s.size += len(key) + len(prev) + entryOverhead
	} else {
		delete(vals, key)
	}
	if !wasChanged {
		s.changed.remove(key)
	}
}

// value returns the encoded value under key. s.mu must be held.
func (s *Session) value(key string) ([]byte, bool) {
	if s.vals != nil {
		raw, ok := s.vals[key]
		return raw, ok
	}
	return lookupValue(s.rec.Data, key)
}

// values returns the values as a map that may be changed. s.mu must be
// held.
func (s *Session) values() map[string][]byte {
	if s.vals == nil {
		s.vals = decodeValues(s.rec.Data)
	}
	return s.vals
}

func (s *Session) markChanged(key string) { s.changed.add(key) }

// keySet is the set of keys a request changed. A request changes a few
// keys, and Config.MaxSize bounds how many a session holds, so a slice
// searched in order costs less than a map, which takes two allocations.
type keySet []string

func (k keySet) has(key string) bool { return slices.Contains(k, key) }

func (k *keySet) add(key string) {
	if !k.has(key) {
		*k = append(*k, key)
	}
}

func (k *keySet) remove(key string) {
	if i := slices.Index(*k, key); i >= 0 {
		*k = slices.Delete(*k, i, i+1)
	}
}

// Delete removes key from the session. Deleting an absent key does
// nothing.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delete(key)
}

func (s *Session) delete(key string) {
	if !s.ensure() {
		return
	}
	if raw, ok := s.value(key); ok {
		delete(s.values(), key)
		s.size -= len(key) + len(raw) + entryOverhead
		s.markChanged(key)
	}
}

// Clear removes every value from the session, including pending flash
// messages. The session itself, its ID and its user stay, and so does an
// impersonation's record of its actor (see Manager.Impersonate).
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
}

func (s *Session) clear() {
	if !s.ensure() || s.size == 0 {
		return
	}
	vals := s.values()
	actor, acting := vals[actorKey]
	for k := range vals {
		s.markChanged(k) // the actor too: a rebase keeps this request's copy
	}
	clear(vals)
	s.size = 0
	if acting {
		vals[actorKey] = actor
		s.size = len(actorKey) + len(actor) + entryOverhead
	}
	s.cleared = true
}

// Keys returns the session's keys in sorted order. Keys with the reserved
// "keycard." prefix (such as pending flash messages) are left out.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ensure() {
		return nil
	}
	var keys []string
	for k := range s.values() {
		if !strings.HasPrefix(k, reservedPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// UserID returns the user the session is bound to by Login, or "".
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensure()
	return s.rec.UserID
}

// Info describes the session as Manager.Sessions describes each of a
// user's: when it began (renewal keeps it), when its user last logged in
// (zero if never), its last recorded activity (recorded at most once per
// tenth of the idle timeout, so reads do not write), its idle and absolute
// deadlines, whether it is remembered (RememberMe), and the client address
// and user agent of its login. Its Hash, the session's public handle (the
// hex SHA-256 of its ID, as the store keys it and as Manager.Sessions and
// Manager.Revoke name it, which cannot be turned back into a usable ID),
// is "" while the session is not stored. Its Actor names who acts through
// an impersonation.
func (s *Session) Info() SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensure()
	a, _ := get[actorRecord](s, actorKey)
	return infoOf(s.key, &s.rec, a.User)
}

// IsNew reports whether the session has not been stored yet: the client
// presented no live session.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensure()
	return s.isNew
}
