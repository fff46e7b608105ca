package storetest_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/keycard-go/keycard/store"
)

// refStore is a plain store, obviously correct: one mutex over a map. The
// suite must pass it, and must fail it when one of its faults is switched
// on, each fault being a mistake a real backend could make.
type refStore struct {
	now   func() time.Time
	fault string

	mu      sync.Mutex
	recs    map[string]*store.Record
	owners  map[string]string // user at creation, for fault "stale-index"
	deleted map[string]uint64 // last version of deleted keys, for fault "resurrect"
}

// faults lists the faults refStore can have, each with the subtests of the
// suite that must catch it (at least one of them must fail).
var faults = map[string][]string{
	"ignore-expiry":        {"a record expires exactly at its idle expiry"},
	"ignore-deadline":      {"a record expires exactly at its absolute deadline even when expires is later"},
	"touch-creates":        {"touch of an absent key reports ErrNotFound and creates nothing"},
	"touch-bumps-version":  {"touch does not bump the version"},
	"touch-keeps-expires":  {"touch changes only last seen and expires", "touch before expiry keeps the record alive past the old expiry"},
	"retain-data":          {"save does not retain the record or its data slice"},
	"retain-record":        {"save does not retain the record or its data slice"},
	"alias-load":           {"load returns a copy that does not alias the store"},
	"mutate-argument":      {"save does not modify the record passed in"},
	"round-down":           {"save with version 0 creates a record that loads with every field and version 1"},
	"drop-auth-time":       {"save with version 0 creates a record that loads with every field and version 1"},
	"create-overwrites":    {"save with version 0 on an existing record conflicts and changes nothing"},
	"last-write-wins":      {"save with a stale version conflicts and changes nothing", "concurrent read-modify-write loops lose no update"},
	"accept-future":        {"save with a future version conflicts and changes nothing"},
	"update-creates":       {"save with a non-zero version on an absent key conflicts and creates nothing"},
	"resurrect":            {"save with the old version after delete conflicts"},
	"expired-blocks-save":  {"an expired record counts as absent for save"},
	"non-atomic":           {"concurrent read-modify-write loops lose no update", "concurrent creates of one key let exactly one succeed"},
	"ignore-context":       {"a cancelled context makes every method fail"},
	"truncate-data":        {"a 1 MiB value round-trips"},
	"list-expired":         {"an expired record is not listed"},
	"stale-index":          {"saving a record with another user moves it between users", "a record saved as anonymous leaves its user's list"},
	"delete-user-miscount": {"delete user deletes only that user's sessions and counts them"},
	"sweep-live":           {"sweep deletes expired records and keeps live ones"},
	"batch-non-atomic":     {"save batch with one stale version conflicts and changes nothing"},
	"batch-unsupported":    {"save batch writes a new record and an update together, each with its next version"},
}

func newRefStore(now func() time.Time, fault string) *refStore {
	if _, ok := faults[fault]; fault != "" && !ok {
		panic(fmt.Sprintf("refStore: unknown fault %q", fault))
	}
	return &refStore{
		now:     now,
		fault:   fault,
		recs:    make(map[string]*store.Record),
		owners:  make(map[string]string),
		deleted: make(map[string]uint64),
	}
}

func (s *refStore) enter(ctx context.Context) error {
	if s.fault == "ignore-context" {
		return nil
	}
	return ctx.Err()
}

// live returns the live record under key, or nil. Call with s.mu held.
func (s *refStore) live(key string) *store.Record {
	rec := s.recs[key]
	switch {
	case rec == nil:
		return nil
	case s.fault == "ignore-expiry":
		return rec
	case s.fault == "ignore-deadline" && s.now().Before(rec.Expires):
		return rec
	case !rec.Live(s.now()):
		return nil
	}
	return rec
}

func (s *refStore) Load(ctx context.Context, key string) (*store.Record, error) {
	if err := s.enter(ctx); err != nil {
		return nil, fmt.Errorf("ref store: load: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.live(key)
	switch {
	case rec == nil:
		return nil, store.ErrNotFound
	case s.fault == "alias-load":
		return rec, nil
	}
	return rec.Clone(), nil
}

func (s *refStore) Save(ctx context.Context, key string, rec *store.Record) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("ref store: save: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(key, rec.Version); err != nil {
		return err
	}
	if s.fault == "non-atomic" {
		s.mu.Unlock()
		runtime.Gosched()
		s.mu.Lock()
	}
	s.put(key, rec)
	return nil
}

// check reports whether a save with version may replace the record under
// key. Call with s.mu held.
func (s *refStore) check(key string, version uint64) error {
	cur := s.live(key)
	switch {
	case s.fault == "last-write-wins":
		return nil
	case s.fault == "expired-blocks-save" && s.recs[key] != nil && version == 0:
		return store.ErrConflict
	case cur == nil && version == 0:
		return nil
	case cur == nil && s.fault == "update-creates":
		return nil
	case cur == nil && s.fault == "resurrect" && version == s.deleted[key]:
		return nil
	case cur == nil:
		return store.ErrConflict
	case version == 0 && s.fault == "create-overwrites":
		return nil
	case version > cur.Version && s.fault == "accept-future":
		return nil
	case version != cur.Version:
		return store.ErrConflict
	}
	return nil
}

// put stores a copy of rec under key with the next version. Call with s.mu
// held.
func (s *refStore) put(key string, rec *store.Record) {
	c := rec.Clone()
	if s.fault == "retain-record" {
		c = rec
	}
	if cur := s.recs[key]; s.fault == "last-write-wins" && cur != nil {
		c.Version = cur.Version
	}
	c.Version++
	switch s.fault {
	case "retain-data":
		c.Data = rec.Data
	case "mutate-argument":
		rec.Version++
	case "round-down":
		c.Expires = c.Expires.Truncate(time.Millisecond)
	case "drop-auth-time":
		c.AuthTime = time.Time{}
	case "truncate-data":
		c.Data = c.Data[:min(len(c.Data), 1<<16)]
	}
	if s.recs[key] == nil {
		s.owners[key] = c.UserID
	}
	s.recs[key] = c
}

func (s *refStore) Delete(ctx context.Context, key string) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("ref store: delete: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(key)
	return nil
}

// remove deletes the record under key. Call with s.mu held.
func (s *refStore) remove(key string) {
	if rec := s.recs[key]; rec != nil {
		s.deleted[key] = rec.Version
	}
	delete(s.recs, key)
	delete(s.owners, key)
}

func (s *refStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("ref store: touch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.live(key)
	if rec == nil && s.fault == "touch-creates" {
		rec = &store.Record{Version: 1, Expires: expires, Deadline: expires}
		s.recs[key] = rec
	}
	if rec == nil {
		return store.ErrNotFound
	}
	rec.LastSeen = lastSeen
	if s.fault != "touch-keeps-expires" {
		rec.Expires = expires
	}
	if s.fault == "touch-bumps-version" {
		rec.Version++
	}
	return nil
}

func (s *refStore) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	if err := s.enter(ctx); err != nil {
		return nil, fmt.Errorf("ref store: list user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []store.Entry
	for key, rec := range s.recs {
		user := rec.UserID
		if s.fault == "stale-index" {
			user = s.owners[key]
		}
		if user == userID && (s.fault == "list-expired" || s.live(key) != nil) {
			list = append(list, store.Entry{Key: key, Record: rec.Clone()})
		}
	}
	return list, nil
}

func (s *refStore) DeleteUser(ctx context.Context, userID string) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, fmt.Errorf("ref store: delete user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for key, rec := range s.recs {
		if rec.UserID == userID {
			if s.live(key) != nil {
				n++
			}
			s.remove(key)
		}
	}
	if s.fault == "delete-user-miscount" {
		n++
	}
	return n, nil
}

func (s *refStore) Sweep(ctx context.Context) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, fmt.Errorf("ref store: sweep: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for key := range s.recs {
		if s.live(key) == nil {
			n++
			s.remove(key)
		} else if s.fault == "sweep-live" {
			s.remove(key)
		}
	}
	return n, nil
}

func (s *refStore) SaveBatch(ctx context.Context, entries []store.Entry) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("ref store: save batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range entries {
		if err := s.check(e.Key, e.Record.Version); err != nil {
			return err
		}
		if s.fault == "batch-non-atomic" {
			// Writes each entry once it is checked, so a conflict on a
			// later entry leaves the earlier ones written.
			s.put(e.Key, e.Record)
		}
		if s.fault == "batch-unsupported" && i == len(entries)-1 {
			s.put(entries[0].Key, entries[0].Record)
			return fmt.Errorf("ref store: save batch: %w", store.ErrUnsupported)
		}
	}
	if s.fault != "batch-non-atomic" {
		for _, e := range entries {
			s.put(e.Key, e.Record)
		}
	}
	return nil
}
