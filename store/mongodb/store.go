package mongodb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
)

// Store is a session store in one MongoDB collection. It implements
// [store.Store], [store.UserIndex], [store.Scanner], [store.Sweeper] and
// [store.RecordLoader]. Its methods are safe for concurrent use; on MongoDB
// each is one command, one round trip (on FerretDB 1.x, Save and Touch take
// four: see the package documentation). It starts no goroutine and owns
// nothing: the client is the caller's to disconnect. Create a Store with
// New; the zero Store is not usable.
type Store struct {
	coll  *mongo.Collection
	locks *mongo.Collection // FerretDB 1.x only; see serialize.go
	now   func() time.Time
	batch int

	modeMu sync.Mutex
	mode   int // modeUnknown until serialized asks the server
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.UserIndex    = (*Store)(nil)
	_ store.Scanner      = (*Store)(nil)
	_ store.Sweeper      = (*Store)(nil)
	_ store.RecordLoader = (*Store)(nil)
)

// New returns a store that keeps its sessions in the collection of db
// named by cfg; db comes from the application's own client, as in
// client.Database("app"). New checks cfg but does not contact the server:
// call [Store.Migrate] once at startup to create the collection's
// indexes. The store never disconnects the client.
func New(db *mongo.Database, cfg Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("mongodb store: nil database")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Store{coll: db.Collection(cfg.Collection), locks: db.Collection(cfg.Collection + "_locks"), now: cfg.Now, batch: cfg.SweepBatch}, nil
}

// Collection returns the collection the store uses.
func (s *Store) Collection() *mongo.Collection {
	return s.coll
}

// Load returns the record stored under key, or [store.ErrNotFound] if there
// is none or it has expired by Config.Now, even if the document is still
// there. It is one find by _id.
func (s *Store) Load(ctx context.Context, key string) (*store.Record, error) {
	rec := new(store.Record)
	if err := s.LoadRecord(ctx, key, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// LoadRecord sets *rec to the live record under key, as Load returns it,
// without allocating a Record, or reports [store.ErrNotFound]. It is one
// find by _id.
func (s *Store) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	var d document
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.ErrNotFound
	}
	if err != nil {
		return wrap(ctx, "load", err)
	}
	out := d.value()
	if !out.Live(s.now()) {
		return store.ErrNotFound
	}
	*rec = out
	return nil
}

// Save stores rec under key if the stored version is rec.Version (0 for no
// live record), in one command, and reports [store.ErrConflict] otherwise.
//
// An update is a replace whose filter names the key, the expected version
// and a live record: no match is a conflict. A create (version 0) is an
// upserting replace whose filter matches only an expired record under the
// key: with none, the server inserts, and with a live one, the insert of
// its _id fails as a duplicate key, which is the conflict. On FerretDB
// 1.x, whose updates are not atomic, Save instead reads, checks and
// writes the record under a lock document, and a held lock is a conflict.
func (s *Store) Save(ctx context.Context, key string, rec *store.Record) error {
	locks, err := s.serialized(ctx)
	if err != nil {
		return wrap(ctx, "save", err)
	}
	at := s.now()
	doc := newDocument(key, rec, rec.Version+1)
	if locks {
		return s.saveLocked(ctx, key, doc, rec.Version, at)
	}
	now := storekit.Nanos(at)
	var filter bson.D
	var opts []options.Lister[options.ReplaceOptions]
	if rec.Version == 0 {
		filter = bson.D{
			{Key: "_id", Value: key},
			{Key: "$or", Value: bson.A{
				bson.D{{Key: "expires", Value: bson.D{{Key: "$lte", Value: now}}}},
				bson.D{{Key: "deadline", Value: bson.D{{Key: "$lte", Value: now}}}},
			}},
		}
		opts = append(opts, options.Replace().SetUpsert(true))
	} else {
		filter = liveFilter(bson.D{{Key: "_id", Value: key}, {Key: "version", Value: int64(rec.Version)}}, now)
	}
	res, err := s.coll.ReplaceOne(ctx, filter, doc, opts...)
	switch {
	case rec.Version == 0 && mongo.IsDuplicateKeyError(err):
		return errConflict
	case err != nil:
		return wrap(ctx, "save", err)
	case res.MatchedCount == 0 && res.UpsertedCount == 0:
		return errConflict
	}
	return nil
}

// errConflict is store.ErrConflict, as Save returns it.
var errConflict = store.ErrConflict

// Delete removes the record stored under key, if any: one delete by _id.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
		return wrap(ctx, "delete", err)
	}
	return nil
}

// Touch sets LastSeen and Expires of the live record under key, keeping its
// version, or reports [store.ErrNotFound] if there is none. It is one
// update that never inserts (on FerretDB 1.x, a read and an update under
// the key's lock). The record's TTL date for its idle expiry,
// expire_at.0, moves with Expires; the TTL monitor reads the earlier of it
// and the deadline's.
func (s *Store) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	now := s.now()
	filter := liveFilter(bson.D{{Key: "_id", Value: key}}, storekit.Nanos(now))
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "last_seen", Value: storekit.Nanos(lastSeen)},
		{Key: "expires", Value: storekit.Nanos(expires)},
		{Key: "expire_at.0", Value: ceilDate(expires)},
	}}}
	locks, err := s.serialized(ctx)
	if err != nil {
		return wrap(ctx, "touch", err)
	}
	var matched bool
	if locks {
		matched, err = s.touchLocked(ctx, key, update, now)
	} else {
		var res *mongo.UpdateResult
		res, err = s.coll.UpdateOne(ctx, filter, update)
		matched = err == nil && res.MatchedCount > 0
	}
	if err != nil {
		return wrap(ctx, "touch", err)
	}
	if !matched {
		return store.ErrNotFound
	}
	return nil
}

// wrap wraps err with the store's name and the operation. A failure after
// ctx ended wraps ctx's error too, whatever the driver reported.
func wrap(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("mongodb store: %s: %w (%w)", op, ctxErr, err)
	}
	return fmt.Errorf("mongodb store: %s: %w", op, err)
}
