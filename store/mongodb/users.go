package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
)

// ListUser returns the live records of userID with their keys, in no
// particular order: one find through the user_id index. The anonymous
// user "" has no listed sessions.
func (s *Store) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	if userID == "" {
		return nil, nil
	}
	var list []store.Entry
	err := s.find(ctx, "list user", bson.D{{Key: "user_id", Value: userID}}, func(e store.Entry) error {
		list = append(list, e)
		return nil
	})
	return list, err
}

// DeleteUser deletes every live record of userID in one delete through the
// user_id index, and reports how many it deleted. Expired records of the
// user are left to the TTL index or Sweep. The anonymous user "" has no
// sessions to delete.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	filter := liveFilter(bson.D{{Key: "user_id", Value: userID}}, storekit.Nanos(s.now()))
	res, err := s.coll.DeleteMany(ctx, filter)
	if err != nil {
		return 0, wrap(ctx, "delete user", err)
	}
	return int(res.DeletedCount), nil
}
