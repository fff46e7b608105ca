package redis

import (
	"context"
	"time"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis/internal/core"
)

// Store is a session store in Redis, through a rueidis client. It
// implements [store.Store], [store.UserIndex], [store.Scanner],
// [store.RecordLoader] and [store.Batcher] (on one server; on Redis
// Cluster SaveBatch reports [store.ErrUnsupported]); records expire in Redis itself, so it needs no
// Sweeper. Its methods are safe for concurrent use. Create a Store with
// New; the zero Store is not usable.
type Store struct {
	s *core.Store
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.UserIndex    = (*Store)(nil)
	_ store.Scanner      = (*Store)(nil)
	_ store.Batcher      = (*Store)(nil)
	_ store.RecordLoader = (*Store)(nil)
)

// New returns a store that keeps sessions in Redis through client, which
// may be a standalone, Sentinel or Cluster client. The caller keeps
// ownership of client: the store never closes it and starts no goroutine,
// so it needs no Close. New panics if cfg.Prefix contains '{' or '}'.
func New(client rueidis.Client, cfg Config) *Store {
	return &Store{s: core.New(newRueidisBackend(client), core.Config{Prefix: cfg.Prefix, Now: cfg.Now})}
}

// Load returns the live record under key, or [store.ErrNotFound]. It costs
// one GET.
func (s *Store) Load(ctx context.Context, key string) (*store.Record, error) {
	return s.s.Load(ctx, key)
}

// LoadRecord sets *rec to the live record under key, as Load returns it,
// without allocating a Record, or reports [store.ErrNotFound]. It costs
// one GET.
func (s *Store) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	return s.s.LoadRecord(ctx, key, rec)
}

// Save writes rec under key with compare-and-set on its version, and
// reports [store.ErrConflict] when the stored version differs. It costs
// one EVALSHA, plus one more to add the record to its user's index when
// the record is new for that user (at login) or its deadline grows.
func (s *Store) Save(ctx context.Context, key string, rec *store.Record) error {
	return s.s.Save(ctx, key, rec)
}

// SaveBatch saves each entry's record under its key as Save does, with
// compare-and-set on every version, atomically: it writes every record,
// user index upkeep included, or, when a stored version differs, none, and
// reports [store.ErrConflict]. The keys must differ. It costs one EVALSHA
// on one server (standalone or Sentinel), whatever the number of entries;
// on Redis Cluster, whose slots no script may span, it reports
// [store.ErrUnsupported] without sending anything, and the caller saves
// the records one at a time.
func (s *Store) SaveBatch(ctx context.Context, entries []store.Entry) error {
	return s.s.SaveBatch(ctx, entries)
}

// Delete deletes the record under key (one EVALSHA), then removes it from
// its user's index (one ZREM, only for a record with a user).
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.s.Delete(ctx, key)
}

// Touch sets the live record's LastSeen and Expires and moves its expiry
// in Redis, in one EVALSHA. It reports [store.ErrNotFound], creating
// nothing, when there is no live record under key.
func (s *Store) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	return s.s.Touch(ctx, key, lastSeen, expires)
}

// ListUser returns the live sessions of userID: one ZRANGE of the user's
// index, one pipeline of GETs, and one EVALSHA to prune the index when
// some of its members were stale.
func (s *Store) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	return s.s.ListUser(ctx, userID)
}

// DeleteUser deletes every session of userID and reports how many were
// live: one ZRANGE of the user's index, one pipeline of EVALSHAs that
// delete the records still belonging to the user, and one EVALSHA that
// removes them from the index.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	return s.s.DeleteUser(ctx, userID)
}

// Scan calls fn for every live record, for administration tools (keycard
// sessions ls, keycard stats); it is never on a request path. It walks
// every master (the one server, or each master of a Redis Cluster) with
// SCAN … MATCH PREFIXs:* TYPE string, fetching each batch's records in one
// pipeline of GETs, and visits each record once even when SCAN repeats a
// key. Its memory is bounded: it holds one batch of records at a time,
// and the keys it has visited of one part of the keyspace, at most 65,536
// of them (about 7 MB): beyond that many keys on the servers, it walks
// the keyspace once for each part, cut by the keys' leading hex digits
// (18 walks for up to a million keys). Records saved or deleted during
// the walk may or may not be seen. If fn returns an error, Scan stops and
// returns it.
func (s *Store) Scan(ctx context.Context, fn func(store.Entry) error) error {
	return s.s.Scan(ctx, fn)
}
