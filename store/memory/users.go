package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/keycard-go/keycard/store"
)

// userIndex maps each user to the keys of their records. Anonymous records
// are not indexed.
//
// Lock order: a goroutine may lock the index while holding a shard lock,
// never a shard lock while holding the index lock. Every change to a
// record's user happens under its shard lock and updates the index before
// the shard lock is released.
type userIndex struct {
	mu   sync.Mutex
	keys map[string]*userKeys
}

// add indexes key under user.
func (x *userIndex) add(user, key string) {
	if user == "" {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.addLocked(user, key)
}

// remove drops key from user's keys.
func (x *userIndex) remove(user, key string) {
	if user == "" {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(user, key)
}

// move re-indexes key from one user to another.
func (x *userIndex) move(from, to, key string) {
	if from == to {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if from != "" {
		x.removeLocked(from, key)
	}
	if to != "" {
		x.addLocked(to, key)
	}
}

func (x *userIndex) addLocked(user, key string) {
	u := x.keys[user]
	if u == nil {
		u = new(userKeys)
		x.keys[user] = u
	}
	u.add(key)
}

func (x *userIndex) removeLocked(user, key string) {
	u := x.keys[user]
	if u == nil {
		return
	}
	u.remove(key)
	if u.len() == 0 {
		delete(x.keys, user)
	}
}

// list returns a snapshot of user's keys.
func (x *userIndex) list(user string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	u := x.keys[user]
	if u == nil {
		return nil
	}
	return u.appendTo(make([]string, 0, u.len()))
}

// reset empties the index.
func (x *userIndex) reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.keys = make(map[string]*userKeys)
}

// fewKeys is how many keys a user's entry holds in a slice before it moves
// them to a map. Most users have a few sessions, and a short slice costs a
// fraction of a map's memory; the map keeps removal cheap for the rare user
// with thousands.
const fewKeys = 8

// userKeys is the set of one user's keys. The caller never adds a key that
// is already in the set.
type userKeys struct {
	few  []string            // the keys, while there are at most fewKeys
	many map[string]struct{} // the keys, once there were more
}

func (u *userKeys) add(key string) {
	switch {
	case u.many != nil:
		u.many[key] = struct{}{}
	case len(u.few) < fewKeys:
		u.few = append(u.few, key)
	default:
		u.many = make(map[string]struct{}, 2*fewKeys)
		for _, k := range u.few {
			u.many[k] = struct{}{}
		}
		u.many[key] = struct{}{}
		u.few = nil
	}
}

func (u *userKeys) remove(key string) {
	if u.many != nil {
		delete(u.many, key)
		return
	}
	if i := slices.Index(u.few, key); i >= 0 {
		last := len(u.few) - 1
		u.few[i], u.few[last] = u.few[last], ""
		u.few = u.few[:last]
	}
}

func (u *userKeys) len() int {
	return len(u.few) + len(u.many)
}

func (u *userKeys) appendTo(keys []string) []string {
	keys = append(keys, u.few...)
	for key := range u.many {
		keys = append(keys, key)
	}
	return keys
}

// ListUser returns copies of the live records of userID with their keys, in
// no particular order. The anonymous user "" has no listed sessions.
func (s *Store) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	if err := s.enter(ctx); err != nil {
		return nil, fmt.Errorf("memory store: list user: %w", err)
	}
	now := s.now()
	var list []store.Entry
	for _, key := range s.users.list(userID) {
		if rec := s.userRecord(key, userID, now); rec != nil {
			list = append(list, store.Entry{Key: key, Record: rec})
		}
	}
	return list, nil
}

// userRecord returns a copy of the live record under key if it belongs to
// userID, or nil.
func (s *Store) userRecord(key, userID string, now time.Time) *store.Record {
	sh := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	it := s.liveLocked(sh, key, now)
	if it == nil || it.rec.UserID != userID {
		return nil
	}
	return it.rec.Clone()
}

// DeleteUser deletes every record of userID and reports how many live ones
// it deleted; expired records it removes on the way are not counted.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, fmt.Errorf("memory store: delete user: %w", err)
	}
	now := s.now()
	n := 0
	for _, key := range s.users.list(userID) {
		if s.deleteUserRecord(key, userID, now) {
			n++
		}
	}
	return n, nil
}

// deleteUserRecord deletes the record under key if it belongs to userID and
// reports whether it was live.
func (s *Store) deleteUserRecord(key, userID string, now time.Time) bool {
	sh := s.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	it := sh.items[key]
	if it == nil || it.rec.UserID != userID {
		return false
	}
	s.removeLocked(sh, it)
	return it.live(now)
}
