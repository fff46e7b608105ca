package mongodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// FerretDB 1.x applies an update, replace or delete as a query followed
// by a write by _id, outside any transaction, so a filter on the version
// is no compare-and-set there: two writers that read the same version
// both write, and the second undoes the first. Its one atomic conditional
// write is an insert, which fails on an existing _id. On such a server
// the store serializes the writes of one key (Save, Touch) with a lock
// document: inserting {_id: KEY} into the collection COLLECTION_locks
// takes the lock, deleting it releases it. Under the lock a write reads
// the record, checks it, and writes it back, four round trips in all.
// FerretDB looks a document up by primary key only for a filter on _id
// alone, so the reads and writes under the lock filter on _id alone. A
// lock older than lockLease (its holder crashed, or stalled that long) is
// taken over. Delete needs no lock: a write that follows it finds no
// document to update and creates none.

// lockLease is how long a lock holds before another writer may take it
// over. It is a guard against a holder that died; a live holder keeps it
// for a few round trips.
const lockLease = 30 * time.Second

// errBusy reports a lock held by another writer.
var errBusy = errors.New("key locked by another writer")

// serialized reports whether the server needs writes serialized by lock
// documents: whether it is FerretDB, which says so in its buildInfo. The
// answer is asked once and remembered; a failure to ask is returned and
// asked again next time.
func (s *Store) serialized(ctx context.Context) (bool, error) {
	s.modeMu.Lock()
	defer s.modeMu.Unlock()
	if s.mode != modeUnknown {
		return s.mode == modeLocks, nil
	}
	var info bson.M
	err := s.coll.Database().RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
	if err != nil {
		return false, err
	}
	s.mode = modeAtomic
	if _, ferret := info["ferretdbVersion"]; ferret {
		s.mode = modeLocks
	}
	return s.mode == modeLocks, nil
}

// How the store makes writes safe, found by serialized.
const (
	modeUnknown = iota
	modeAtomic  // one conditional command per write: MongoDB
	modeLocks   // lock documents: FerretDB 1.x
)

// lockHold bounds the commands of one lock attempt and of the section a
// lock guards. They run to their end even when the caller's context ends
// first, up to lockHold: a command the client gave up on may still be
// applied by the server later, so an insert of a lock abandoned mid-way
// could take the lock after its writer left, with no one to release it
// until its lease passed, and a write abandoned under the lock could land
// after the lock was released, over a newer writer's. lockHold is well
// under lockLease, so that a live holder is done before anyone may take
// its lock over.
const lockHold = lockLease / 3

// lock takes the lock of key. If another writer holds it, lock returns
// errBusy at once when wait is false, and otherwise tries again, backing
// off from 1 ms to 50 ms, until ctx ends. It returns the context of the
// section the lock guards, which ctx's end does not cut short (see
// lockHold), and the function that ends the section and releases the
// lock. Once ctx has ended, no attempt starts; an attempt that takes the
// lock after ctx ended releases it and reports ctx's error.
func (s *Store) lock(ctx context.Context, key string, wait bool) (held context.Context, release func(), err error) {
	var b [8]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	pause := time.Millisecond
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		now := time.Now()
		held, end := context.WithTimeout(context.WithoutCancel(ctx), lockHold)
		_, err := s.locks.InsertOne(held, bson.D{{Key: "_id", Value: key}, {Key: "token", Value: token}, {Key: "at", Value: bson.NewDateTimeFromTime(now)}})
		if err == nil {
			release := func() {
				end()
				s.unlock(ctx, key, token, lockLease)
			}
			if err := ctx.Err(); err != nil {
				release()
				return nil, nil, err
			}
			return held, release, nil
		}
		end()
		if !mongo.IsDuplicateKeyError(err) {
			// The insert's outcome is unknown only if it ran out of
			// lockHold: remove it in case it landed.
			s.unlock(ctx, key, token, lockHold)
			return nil, nil, err
		}
		stale := bson.D{{Key: "_id", Value: key}, {Key: "at", Value: bson.D{{Key: "$lt", Value: bson.NewDateTimeFromTime(now.Add(-lockLease))}}}}
		if res, err := s.locks.DeleteOne(ctx, stale); err != nil {
			return nil, nil, err
		} else if res.DeletedCount > 0 {
			continue
		}
		if !wait {
			return nil, nil, errBusy
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// unlock deletes the lock of key that token took, within d, even when
// ctx has ended. A failure leaves the lock to its lease.
func (s *Store) unlock(ctx context.Context, key, token string, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	defer cancel()
	_, _ = s.locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "token", Value: token}})
}

// saveLocked is Save on a server whose writes are serialized: under the
// key's lock it reads the record, checks its version, and replaces or
// inserts it. A lock held by another writer is a conflict, as the
// compare-and-set would be.
func (s *Store) saveLocked(ctx context.Context, key string, doc *document, expected uint64, now time.Time) error {
	held, release, err := s.lock(ctx, key, false)
	if errors.Is(err, errBusy) {
		return errConflict
	}
	if err != nil {
		return wrap(ctx, "save", err)
	}
	defer release()
	var cur document
	err = s.coll.FindOne(held, bson.D{{Key: "_id", Value: key}}).Decode(&cur)
	found := err == nil
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return wrap(ctx, "save", err)
	}
	var version uint64
	if found && cur.record().Live(now) {
		version = uint64(cur.Version)
	}
	if version != expected {
		return errConflict
	}
	if found {
		_, err = s.coll.ReplaceOne(held, bson.D{{Key: "_id", Value: key}}, doc)
	} else {
		_, err = s.coll.InsertOne(held, doc)
	}
	if err != nil {
		return wrap(ctx, "save", err)
	}
	return nil
}

// touchLocked is Touch on a server whose writes are serialized: under the
// key's lock, waiting for a writer that holds it, it reads the record,
// checks that it is live, and updates it. Each command filters on _id
// alone, which FerretDB looks up by its primary key; a filter with more
// fields would have it read the whole collection.
func (s *Store) touchLocked(ctx context.Context, key string, update bson.D, now time.Time) (matched bool, err error) {
	held, release, err := s.lock(ctx, key, true)
	if err != nil {
		return false, err
	}
	defer release()
	var cur document
	err = s.coll.FindOne(held, bson.D{{Key: "_id", Value: key}}).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !cur.record().Live(now) {
		return false, nil
	}
	res, err := s.coll.UpdateOne(held, bson.D{{Key: "_id", Value: key}}, update)
	if err != nil {
		return false, err
	}
	return res.MatchedCount > 0, nil
}
