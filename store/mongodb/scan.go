package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
)

// scanBatch is how many documents one batch of a Scan's cursor holds.
const scanBatch = 256

// Scan calls fn for every live record, streaming them from one find over
// the whole collection in batches of 256 documents, so its memory stays
// bounded. It is meant for administration tools, not request paths: it
// reads every document. If fn returns an error, Scan stops and returns it.
func (s *Store) Scan(ctx context.Context, fn func(store.Entry) error) error {
	return s.find(ctx, "scan", bson.D{}, fn)
}

// find calls fn for each live record that filter matches, streaming them
// from a cursor. Errors of fn come back as they are, and the driver's
// wrapped with op.
func (s *Store) find(ctx context.Context, op string, filter bson.D, fn func(store.Entry) error) error {
	filter = liveFilter(filter, storekit.Nanos(s.now()))
	cur, err := s.coll.Find(ctx, filter, options.Find().SetBatchSize(scanBatch))
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var d document
		if err := cur.Decode(&d); err != nil {
			return wrap(ctx, op, err)
		}
		if err := fn(store.Entry{Key: d.Key, Record: d.record()}); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return wrap(ctx, op, err)
	}
	return nil
}
