package core

import (
	"context"
	"strconv"

	"github.com/keycard-go/keycard/store"
)

// Save writes rec under key if the live record's version is rec.Version
// (0: no live record), and keeps the user index a superset of the live
// records (see users.go).
//
// Where every key lives on one server (a standalone Redis, or Sentinel),
// it is one round trip: scriptSaveIndexed compares versions, writes the
// record and updates the user indexes atomically. On Redis Cluster, where
// a record and its user's index sit in different slots, the same work is
// split per slot (saveSplit): one EVALSHA for an update that keeps the
// user and the deadline, two when a record is created for a user or
// changes user or deadline (the index first), and a ZREM after a record
// leaves a user.
func (s *Store) Save(ctx context.Context, key string, rec *store.Record) error {
	if err := ctx.Err(); err != nil {
		return fail("save", err)
	}
	if !s.b.OneServer() {
		return s.saveSplit(ctx, key, rec)
	}
	keys := []string{s.recordKey(key)}
	if rec.UserID != "" {
		keys = append(keys, s.indexKey(rec.UserID))
	}
	args := []string{
		versionBytes(rec.Version),
		nanoBytes(s.now()),
		string(encodeValue(rec, rec.Version+1, 0)),
		expireAt(rec),
		strconv.FormatInt(ceilMillis(rec.Deadline), 10),
		memberStem(key),
		strconv.FormatUint(rec.Version+1, 10),
		s.prefix + "u:{",
	}
	reply, err := s.b.Eval(ctx, scriptSaveIndexed, keys, args)
	switch {
	case err != nil:
		return fail("save", err)
	case len(reply) == 1 && reply[0] == "ok":
		return nil
	case len(reply) == 1 && reply[0] == "conflict":
		return store.ErrConflict
	}
	return fail("save", errReply)
}

// saveSplit is Save on Redis Cluster. A record with a user is first added
// to the user's index, so the index always lists at least every live
// record; an update that keeps the user and does not extend the deadline
// skips that and costs one EVALSHA.
func (s *Store) saveSplit(ctx context.Context, key string, rec *store.Record) error {
	rk := s.recordKey(key)
	now := nanoBytes(s.now())
	value := encodeValue(rec, rec.Version+1, 0)
	expected, pxat := versionBytes(rec.Version), expireAt(rec)
	var token uint64
	switch {
	case rec.UserID == "":
	case rec.Version == 0:
		token = 1
	default:
		reply, err := s.b.Eval(ctx, scriptSave, []string{rk}, []string{"f", expected, now, string(value), pxat})
		switch {
		case err != nil:
			return fail("save", err)
		case len(reply) == 0:
			return fail("save", errReply)
		case reply[0] == "ok":
			return nil
		case reply[0] == "conflict":
			return store.ErrConflict
		}
		// The user or the deadline changed: re-index under a new token.
		token = rec.Version + 1
	}
	if token != 0 {
		setToken(value, token)
		if err := s.addToIndex(ctx, rec.UserID, key, token, ceilMillis(rec.Deadline)); err != nil {
			return fail("save: index", err)
		}
	}
	reply, err := s.b.Eval(ctx, scriptSave, []string{rk}, []string{"c", expected, now, string(value), pxat})
	switch {
	case err != nil:
		return fail("save", err)
	case len(reply) == 1 && reply[0] == "conflict":
		return store.ErrConflict
	case len(reply) != 3 || reply[0] != "ok":
		return fail("save", errReply)
	}
	if old, oldToken := reply[1], tokenOf(reply[2]); old != "" && (old != rec.UserID || oldToken != token) {
		s.removeFromIndex(ctx, old, key, oldToken)
	}
	return nil
}
