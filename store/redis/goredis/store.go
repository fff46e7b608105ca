package goredis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/internal/core"
)

// Store is a session store in Redis, through a go-redis client. It keeps
// the same keys and values as [redis.Store], with the same scripts, so the
// two can share a Redis (and an application can move from one client
// library to the other without losing sessions). It implements
// [store.Store], [store.UserIndex], [store.Scanner], [store.RecordLoader]
// and [store.Batcher] (with a client of one server; with a ClusterClient or a Ring SaveBatch
// reports [store.ErrUnsupported]). Its methods are safe for concurrent
// use. Create a Store with New; the zero Store is not usable.
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

// New returns a store that keeps sessions in Redis through client: a
// *goredis.Client, *goredis.ClusterClient, a failover (Sentinel) client or
// any other UniversalClient. The caller keeps ownership of client: the
// store never closes it and starts no goroutine. New panics if cfg.Prefix
// contains '{' or '}'.
func New(client goredis.UniversalClient, cfg redis.Config) *Store {
	return &Store{s: core.New(backend{c: client}, core.Config{Prefix: cfg.Prefix, Now: cfg.Now})}
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

// SaveBatch saves each entry's record under its key as Save does,
// atomically, or none of them and reports [store.ErrConflict]. It costs
// one EVALSHA on one server; with a ClusterClient or a Ring it reports
// [store.ErrUnsupported] without sending anything. See
// [redis.Store.SaveBatch].
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

// ListUser returns the live sessions of userID; see [redis.Store.ListUser].
func (s *Store) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	return s.s.ListUser(ctx, userID)
}

// DeleteUser deletes every session of userID and reports how many were
// live; see [redis.Store.DeleteUser].
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	return s.s.DeleteUser(ctx, userID)
}

// Scan calls fn for every live record, once each, walking every master
// of a ClusterClient (every shard of a Ring); see [redis.Store.Scan].
func (s *Store) Scan(ctx context.Context, fn func(store.Entry) error) error {
	return s.s.Scan(ctx, fn)
}
