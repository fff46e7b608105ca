package store

import (
	"context"
	"time"
)

// Store keeps session records under opaque keys.
//
// Keys are lowercase hex SHA-256 digests (64 characters) computed by the
// Manager; a store must treat them as opaque strings. All methods must be
// safe for concurrent use and must honour ctx cancellation where the backend
// allows it. Errors other than the sentinels below report system failures
// (a server down, a timeout) and must be wrapped with the store's name, as in
// fmt.Errorf("redis store: load: %w", err).
//
// A record whose Expires or Deadline is not after the store's current time
// is absent for every method, even if the backend has not yet removed it.
type Store interface {
	// Load returns the record stored under key. It must return ErrNotFound
	// (possibly wrapped) when no record exists or the record has expired,
	// that is when Expires is not after the store's current time, even if
	// the backend has not yet removed it.
	Load(ctx context.Context, key string) (*Record, error)

	// Save writes rec under key if the stored version equals rec.Version,
	// where version 0 means "no record exists". The stored record then has
	// version rec.Version+1. If the versions differ, including when
	// rec.Version is 0 and a record exists, or rec.Version is not 0 and no
	// record exists, Save must change nothing and return ErrConflict.
	// Save must not modify rec, nor retain rec or rec.Data after it
	// returns: the caller reuses both.
	Save(ctx context.Context, key string, rec *Record) error

	// Delete removes the record under key. Deleting an absent record is not
	// an error.
	Delete(ctx context.Context, key string) error

	// Touch records activity on an existing record: it sets LastSeen and
	// Expires without changing the version or any other field. It must
	// return ErrNotFound and create nothing when the record is absent or
	// expired, so that a touch can never resurrect a deleted session.
	Touch(ctx context.Context, key string, lastSeen, expires time.Time) error
}

// UserIndex is implemented by stores that can find every session of one
// user. The Manager uses it for device lists, "log out everywhere" and
// concurrent-session limits; it reports ErrUnsupported when the store lacks
// it.
type UserIndex interface {
	// ListUser returns the live (unexpired) sessions whose record has
	// UserID equal to userID, in no particular order. An unknown user has
	// no sessions and is not an error.
	ListUser(ctx context.Context, userID string) ([]Entry, error)

	// DeleteUser deletes every session of userID and reports how many it
	// deleted.
	DeleteUser(ctx context.Context, userID string) (int, error)
}

// Sweeper is implemented by stores that keep expired records until they are
// swept. Sweep deletes expired records, in bounded batches where the backend
// needs it, and reports how many it deleted.
type Sweeper interface {
	Sweep(ctx context.Context) (int, error)
}

// Scanner is implemented by stores that can enumerate their live records,
// for administration tools (listing sessions, counting them). Scan calls fn
// for each live record, in no particular order, until fn returns an error,
// which Scan then returns. It need not be a consistent snapshot: records
// saved or deleted during a scan may or may not be seen. It is never on a
// request path.
type Scanner interface {
	Scan(ctx context.Context, fn func(Entry) error) error
}

// Counter is implemented by stores that can count their anonymous records
// (those with an empty UserID) cheaply enough to bound them: a Manager
// with Config.Visitors.Max asks at most once a second.
type Counter interface {
	// CountAnonymous returns how many live records have an empty UserID.
	CountAnonymous(ctx context.Context) (int, error)
}

// NonBlocking is implemented by stores whose calls never block: they do
// no I/O and wait only for brief in-process locks, so they return promptly
// whatever the context. Bounding such a store's calls with a timeout
// bounds nothing and costs a context per call, so the Manager need not. A
// store that wraps another reports what the wrapped store does, unless the
// wrapper itself can wait: then it must report false, which a wrapper that
// embeds a NonBlocking store does not do by itself.
type NonBlocking interface {
	// NeverBlocks reports whether every method of the store returns
	// without waiting for I/O, another process or a server.
	NeverBlocks() bool
}

// Batcher is implemented by stores that can save several records in one
// atomic step, and so in one round trip. The Manager uses it to renew or
// rotate a session: the session under its new key and, under the old
// key, the marker that replaces it, at once; without it, or when
// SaveBatch reports ErrUnsupported or ErrConflict, it saves them one at a
// time.
type Batcher interface {
	// SaveBatch saves each entry's Record under its Key, as Save would,
	// with compare-and-set on every version, atomically: either every
	// record is written, or, when any stored version differs, none is and
	// SaveBatch returns ErrConflict. The keys must differ. A store that
	// can batch only in some configurations (Redis Cluster, whose keys
	// may live on different servers) returns ErrUnsupported where it
	// cannot, having written nothing. SaveBatch must not modify the
	// records or retain their Data after it returns.
	SaveBatch(ctx context.Context, entries []Entry) error
}

// RecordLoader is implemented by stores that can load a record into a
// Record the caller provides. The Manager loads each request's session
// into memory the session already holds, saving the allocation (and the
// copy) of a Record per request. A store that embeds another to change
// what Load does (to count, fail or trace its calls) must change
// LoadRecord the same way: the Manager calls LoadRecord where the store
// has it, and an embedded store's would bypass the new Load.
type RecordLoader interface {
	// LoadRecord sets *rec to what Load would return for key, with Load's
	// errors: ErrNotFound for an absent or expired record. rec.Data is
	// then the caller's own, as after Load. On an error, *rec is left as
	// it was.
	LoadRecord(ctx context.Context, key string, rec *Record) error
}

// Entry is a record together with the key it is stored under.
type Entry struct {
	Key    string
	Record *Record
}
