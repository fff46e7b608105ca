package core

import (
	"context"
	"strconv"

	"github.com/keycard-go/keycard/store"
)

// The user index is one sorted set per user, at indexKey(user). Its
// members name a record key and an index token (see member), scored with
// the record's deadline in Unix ms; the set expires with its
// longest-lived member. A record and its user's index live in different
// cluster slots, so no script can update both: the index is kept a
// superset of the user's live records instead. A record is added to the
// index before it is first saved for a user (or with a later deadline),
// and removed after it is deleted or saved for another user. ListUser and
// DeleteUser check every member against its record and prune the stale
// ones.
//
// The token is the record version at which the record was indexed, and
// the record's header keeps it. It tells a stale member from one whose
// save is still in flight: a writer adds member(key, v+1) before it saves
// version v+1, so a member whose token is the stored version plus one
// (or 1, over an absent record) may be about to become true and is kept.
// Every other member that does not match the record's user and token is
// stale and may be removed, since no pending save can bring it back: a
// later re-index always uses a newer token.

// addToIndex adds the record under key, indexed at token, to user's index
// with the record's deadline as score.
func (s *Store) addToIndex(ctx context.Context, user, key string, token uint64, deadlineMs int64) error {
	args := []string{strconv.FormatInt(deadlineMs, 10), member(key, token)}
	_, err := s.b.Eval(ctx, scriptIndexAdd, []string{s.indexKey(user)}, args)
	return err
}

// removeFromIndex removes the record under key, indexed at token, from
// user's index. It runs after the record changed, so a failure leaves a
// stale member, which ListUser and DeleteUser prune; it is not reported.
func (s *Store) removeFromIndex(ctx context.Context, user, key string, token uint64) {
	_ = s.b.ZRem(ctx, s.indexKey(user), member(key, token))
}

// indexEntry is a parsed member of a user's index.
type indexEntry struct {
	name  string // the member as stored
	key   string
	token uint64
}

// readIndex returns the members of user's index whose score is after now,
// and whether some scores are not (they can be pruned). Members the store
// did not write are returned for removal.
func (s *Store) readIndex(ctx context.Context, user string, nowMs int64) (live []indexEntry, foreign []string, expired bool, err error) {
	members, err := s.b.ZRange(ctx, s.indexKey(user))
	if err != nil {
		return nil, nil, false, err
	}
	for _, m := range members {
		if m.Score <= float64(nowMs) {
			expired = true
			continue
		}
		key, token, ok := parseMember(m.Name)
		if !ok {
			foreign = append(foreign, m.Name)
			continue
		}
		live = append(live, indexEntry{name: m.Name, key: key, token: token})
	}
	return live, foreign, expired, nil
}

// prune removes expired scores and the given members from user's index.
// Like removeFromIndex it is housekeeping: a failure is not reported.
func (s *Store) prune(ctx context.Context, user string, nowMs int64, stale []string) {
	args := append([]string{strconv.FormatInt(nowMs, 10)}, stale...)
	_, _ = s.b.Eval(ctx, scriptIndexPrune, []string{s.indexKey(user)}, args)
}

// pending reports whether an index entry with token may belong to a save
// still in flight over a record at version (0: absent) that is live or
// not.
func pending(token, version uint64, live bool) bool {
	return token == version+1 || (!live && token == 1)
}

// ListUser returns user's live records. It reads the user's index, loads
// the records it names in one pipeline, and prunes members that are stale
// or expired. Anonymous records are not indexed: the empty user has none.
func (s *Store) ListUser(ctx context.Context, user string) ([]store.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fail("list user", err)
	}
	if user == "" {
		return nil, nil
	}
	now := s.now()
	nowMs := floorMillis(now)
	idx, stale, expired, err := s.readIndex(ctx, user, nowMs)
	if err != nil {
		return nil, fail("list user", err)
	}
	keys, recordKeys := distinctKeys(idx, s.recordKey)
	var values [][]byte
	if len(recordKeys) > 0 {
		if values, err = s.b.GetMulti(ctx, recordKeys); err != nil {
			return nil, fail("list user", err)
		}
	}
	type loaded struct {
		rec   *store.Record
		token uint64
		live  bool
	}
	recs := make(map[string]loaded, len(keys))
	var list []store.Entry
	for i, key := range keys {
		var l loaded
		if values[i] != nil {
			rec, token, err := decodeValue(values[i])
			if err != nil {
				return nil, fail("list user", err)
			}
			l = loaded{rec: rec, token: token, live: rec.Live(now)}
			if l.live && rec.UserID == user {
				list = append(list, store.Entry{Key: key, Record: rec})
			}
		}
		recs[key] = l
	}
	for _, e := range idx {
		l := recs[e.key]
		var version uint64
		if l.rec != nil {
			version = l.rec.Version
		}
		current := l.live && l.rec.UserID == user && l.token == e.token
		if !current && !pending(e.token, version, l.live) {
			stale = append(stale, e.name)
		}
	}
	if expired || len(stale) > 0 {
		s.prune(ctx, user, nowMs, stale)
	}
	return list, nil
}

// DeleteUser deletes every record of user and reports how many were live.
// It reads the user's index, deletes in one pipeline each record it names
// that still belongs to user, and removes the members it has dealt with,
// keeping any whose save may still be in flight.
func (s *Store) DeleteUser(ctx context.Context, user string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fail("delete user", err)
	}
	if user == "" {
		return 0, nil
	}
	now := s.now()
	nowMs := floorMillis(now)
	idx, stale, expired, err := s.readIndex(ctx, user, nowMs)
	if err != nil {
		return 0, fail("delete user", err)
	}
	keys, recordKeys := distinctKeys(idx, s.recordKey)
	if len(keys) == 0 {
		if expired || len(stale) > 0 {
			s.prune(ctx, user, nowMs, stale)
		}
		return 0, nil
	}
	calls := make([]Call, len(recordKeys))
	nowArg := nanoBytes(now)
	for i, rk := range recordKeys {
		calls[i] = Call{Keys: []string{rk}, Args: []string{user, nowArg}}
	}
	replies, err := s.b.EvalMulti(ctx, scriptDeleteUser, calls)
	if err != nil {
		return 0, fail("delete user", err)
	}
	type outcome struct {
		deleted, live bool
		version       uint64
	}
	outcomes := make(map[string]outcome, len(keys))
	n := 0
	for i, r := range replies {
		var o outcome
		switch {
		case len(r) == 2 && r[0] == "deleted":
			o = outcome{deleted: true, live: r[1] == "1"}
			if o.live {
				n++
			}
		case len(r) == 3 && r[0] == "other":
			o = outcome{live: r[1] == "1", version: tokenOf(r[2])}
		case len(r) == 1 && r[0] == "absent":
		default:
			return n, fail("delete user", errReply)
		}
		outcomes[keys[i]] = o
	}
	for _, e := range idx {
		if o := outcomes[e.key]; o.deleted || !pending(e.token, o.version, o.live) {
			stale = append(stale, e.name)
		}
	}
	s.prune(ctx, user, nowMs, stale)
	return n, nil
}

// distinctKeys returns the distinct record keys of idx, as given and as
// Redis keys.
func distinctKeys(idx []indexEntry, redisKey func(string) string) (keys, redisKeys []string) {
	seen := make(map[string]bool, len(idx))
	for _, e := range idx {
		if !seen[e.key] {
			seen[e.key] = true
			keys = append(keys, e.key)
			redisKeys = append(redisKeys, redisKey(e.key))
		}
	}
	return keys, redisKeys
}
