package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/keycard-go/keycard/internal/storekit"
)

// Sweep deletes expired records and reports how many it deleted. On
// MongoDB, whose TTL index removes expired documents within about a
// minute of their expiry, it only hastens that; on a server without TTL
// indexes (FerretDB 1.x) nothing else removes them, so run it every few
// minutes from any instance. Expired records count as absent meanwhile,
// so Sweep only reclaims space.
//
// It finds at most [Config].SweepBatch expired records through the
// expire_at index and deletes them by _id, and repeats until a batch
// comes back short; it stops early, with an error and the count so far,
// if ctx is done. A record counts as expired for Sweep once either of its
// expire_at dates (its Expires and its Deadline, rounded up to the
// millisecond) is at or before the last whole millisecond of Config.Now.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	n := storekit.Nanos(s.now())
	ms := n / 1e6
	if n%1e6 < 0 {
		ms--
	}
	filter := bson.D{{Key: "expire_at", Value: bson.D{{Key: "$lte", Value: bson.DateTime(ms)}}}}
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, wrap(ctx, "sweep", err)
		}
		cur, err := s.coll.Find(ctx, filter, options.Find().SetLimit(int64(s.batch)).SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return total, wrap(ctx, "sweep", err)
		}
		var ids []struct {
			Key string `bson:"_id"`
		}
		if err := cur.All(ctx, &ids); err != nil {
			return total, wrap(ctx, "sweep", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		keys := make(bson.A, len(ids))
		for i, id := range ids {
			keys[i] = id.Key
		}
		// The filter again, so a record touched since the find stays.
		del := append(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}}, filter...)
		res, err := s.coll.DeleteMany(ctx, del)
		if err != nil {
			return total, wrap(ctx, "sweep", err)
		}
		total += int(res.DeletedCount)
		if len(ids) < s.batch {
			return total, nil
		}
	}
}
