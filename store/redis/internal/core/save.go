package core

import (
	"context"
	"errors"
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
	args := make([]string, 0, 2+entryArgs)
	args = s.appendEntryArgs(append(args, nanoBytes(s.now()), s.prefix+"u:{"), key, rec)
	reply, err := s.b.Eval(ctx, scriptSaveIndexed, keys, args)
	return saveReply("save", reply, err)
}

// SaveBatch saves every entry as Save would, atomically: every record, or
// none when a stored version differs (store.ErrConflict). Where every key
// lives on one server it is one round trip, scriptSaveBatch; on Redis
// Cluster, whose slots no script may span, it reports
// store.ErrUnsupported without sending anything.
func (s *Store) SaveBatch(ctx context.Context, entries []store.Entry) error {
	if err := ctx.Err(); err != nil {
		return fail("save batch", err)
	}
	if len(entries) == 0 {
		return nil
	}
	if !s.b.OneServer() {
		return fail("save batch", store.ErrUnsupported)
	}
	if err := distinctEntries(entries); err != nil {
		return fail("save batch", err)
	}
	keys := make([]string, 0, 2*len(entries))
	args := make([]string, 0, 2+entryArgs*len(entries))
	args = append(args, nanoBytes(s.now()), s.prefix+"u:{")
	for _, e := range entries {
		rk := s.recordKey(e.Key)
		ik := rk
		if e.Record.UserID != "" {
			ik = s.indexKey(e.Record.UserID)
		}
		keys = append(keys, rk, ik)
		args = s.appendEntryArgs(args, e.Key, e.Record)
	}
	reply, err := s.b.Eval(ctx, scriptSaveBatch, keys, args)
	return saveReply("save batch", reply, err)
}

// entryArgs is how many arguments appendEntryArgs appends.
const entryArgs = 6

// appendEntryArgs appends the arguments of one record's write to
// scriptSaveIndexed or scriptSaveBatch: the expected version, the new
// value, PXAT milliseconds, the index score, the member's stem and the new
// version in decimal.
func (s *Store) appendEntryArgs(args []string, key string, rec *store.Record) []string {
	return append(args,
		versionBytes(rec.Version),
		string(encodeValue(rec, rec.Version+1, 0)),
		expireAt(rec),
		strconv.FormatInt(ceilMillis(rec.Deadline), 10),
		memberStem(key),
		strconv.FormatUint(rec.Version+1, 10),
	)
}

// saveReply turns the reply of scriptSaveIndexed or scriptSaveBatch into
// Save's or SaveBatch's result.
func saveReply(op string, reply []string, err error) error {
	switch {
	case err != nil:
		return fail(op, err)
	case len(reply) == 1 && reply[0] == "ok":
		return nil
	case len(reply) == 1 && reply[0] == "conflict":
		return store.ErrConflict
	}
	return fail(op, errReply)
}

// errDuplicateKey reports a batch that names a key twice.
var errDuplicateKey = errors.New("two entries have the same key")

// distinctEntries reports errDuplicateKey when two entries share a key.
// Batches are short (the Manager's have two entries), so it compares
// every pair rather than build a set.
func distinctEntries(entries []store.Entry) error {
	for i := range entries {
		for j := range i {
			if entries[i].Key == entries[j].Key {
				return errDuplicateKey
			}
		}
	}
	return nil
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
