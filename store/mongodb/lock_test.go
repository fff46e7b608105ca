package mongodb_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/mongodb"
)

// TestLockDocuments checks the locks that serialize writes on FerretDB:
// a save meets a held lock as a conflict, a touch waits for it, and a lock
// older than its lease, left by a writer that died, is taken over.
func TestLockDocuments(t *testing.T) {
	t.Parallel()
	s, locks, key, rec := lockFixture(t, strings.Repeat("ef", 32))
	ctx := t.Context()
	now := rec.LastSeen
	rec.Version = 1

	held := bson.D{{Key: "_id", Value: key}, {Key: "token", Value: "another writer"}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Now())}}
	if _, err := locks.InsertOne(ctx, held); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, key, rec); !errors.Is(err, store.ErrConflict) {
		t.Errorf("save under a held lock: got %v, want ErrConflict", err)
	}
	wait, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := s.Touch(wait, key, now, now.Add(2*time.Hour))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("touch under a held lock: got %v, want it to wait until its context ends", err)
	}

	stale := bson.NewDateTimeFromTime(time.Now().Add(-mongodb.LockLease - time.Second))
	if _, err := locks.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}}, bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: stale}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, key, rec); err != nil {
		t.Errorf("save under a lock past its lease: got %v, want it taken over", err)
	}
	if err := s.Touch(ctx, key, now, now.Add(2*time.Hour)); err != nil {
		t.Errorf("touch after the save: %v", err)
	}
	if n, err := locks.CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
		t.Errorf("locks left: %d, %v; want none", n, err)
	}
	got, err := s.Load(ctx, key)
	if err != nil || got.Version != 2 {
		t.Errorf("load: got %+v, %v; want version 2", got, err)
	}
}

// TestCancelledLockAttemptsLeaveNoLock: writers whose contexts end while
// they wait for a held lock leave no lock behind. The server may apply a
// command after the client gave up on it; an insert of a lock applied so,
// after the holder released its lock, took the lock for nobody, and every
// write of the key then failed until the lease passed.
func TestCancelledLockAttemptsLeaveNoLock(t *testing.T) {
	t.Parallel()
	s, locks, key, rec := lockFixture(t, strings.Repeat("ab", 32))
	ctx := t.Context()
	now := rec.LastSeen
	for round := range 5 {
		held := bson.D{{Key: "_id", Value: key}, {Key: "token", Value: "held"}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Now())}}
		if _, err := locks.InsertOne(ctx, held); err != nil {
			t.Fatal(err)
		}
		// Touches wait for the held lock, each with a context that ends
		// within a millisecond, mostly while a command is in flight.
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 20 {
					c, cancel := context.WithTimeout(ctx, time.Duration(100+(g*37+i*53)%900)*time.Microsecond)
					s.Touch(c, key, now, now.Add(2*time.Hour))
					cancel()
				}
			})
		}
		time.Sleep(5 * time.Millisecond)
		if _, err := locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "token", Value: "held"}}); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		// Give a command the server still holds time to land, so that
		// the check below sees it.
		time.Sleep(300 * time.Millisecond)
		var left []bson.M
		cur, err := locks.Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cur.All(ctx, &left); err != nil {
			t.Fatal(err)
		}
		if len(left) > 0 {
			t.Fatalf("round %d: locks left after every writer returned: %v", round, left)
		}
	}
	// And the key is writable at once.
	rec.Version = 1
	if err := s.Save(ctx, key, rec); err != nil {
		t.Fatalf("save after the cancelled writers: %v", err)
	}
}

// lockFixture returns a store that serializes writes with lock documents,
// the collection of its locks, and key, under which it has saved rec.
func lockFixture(t *testing.T, key string) (*mongodb.Store, *mongo.Collection, string, *store.Record) {
	t.Helper()
	s := newStore(t, sharedClient(t), mongodb.Config{})
	mongodb.ForceLocks(s)
	locks := s.Collection().Database().Collection(s.Collection().Name() + "_locks")
	now := time.Now()
	rec := &store.Record{Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	if err := s.Save(t.Context(), key, rec); err != nil {
		t.Fatal(err)
	}
	return s, locks, key, rec
}
