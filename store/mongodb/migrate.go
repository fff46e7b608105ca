package mongodb

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The store's indexes, by name.
const (
	// IndexUser is the index on user_id, for ListUser and DeleteUser.
	IndexUser = "user_id"

	// IndexExpiry is the index on expire_at: a TTL index (expireAfterSeconds
	// 0) on servers that have them, a plain one for Sweep otherwise.
	IndexExpiry = "expire_at"
)

// MongoDB's error codes that Migrate tells apart.
const (
	codeNotImplemented     = 238 // FerretDB 1.x: no TTL indexes
	codeIndexOptionsDiffer = 85  // IndexOptionsConflict: the index exists with other options
	codeIndexKeysDiffer    = 86  // IndexKeySpecsConflict
)

// Migrate creates the collection's indexes if they do not exist, and
// reports whether the expiry index is a TTL index, so that the server
// removes expired documents by itself: on MongoDB it is, and on FerretDB
// 1.x, which answers NotImplemented to expireAfterSeconds, it is a plain
// index, and the application must call [Store.Sweep] now and then.
//
// It is idempotent and safe to call from every instance at startup: the
// server does nothing for an index that exists with the same keys and
// options. An expiry index that exists with other options (a plain one
// made on FerretDB, on a collection now served by MongoDB) is kept as it
// is; drop it and migrate again to make it a TTL index. Creating an index
// on a large existing collection takes a while and, before MongoDB 4.2,
// blocks writes to it.
func (s *Store) Migrate(ctx context.Context) (ttl bool, err error) {
	user := mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName(IndexUser)}
	if _, err := s.coll.Indexes().CreateOne(ctx, user); err != nil {
		return false, wrap(ctx, "migrate", err)
	}
	keys := bson.D{{Key: "expire_at", Value: 1}}
	_, err = s.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys, Options: options.Index().SetName(IndexExpiry).SetExpireAfterSeconds(0)})
	switch {
	case err == nil:
		return true, nil
	case hasCode(err, codeIndexOptionsDiffer, codeIndexKeysDiffer):
		return false, nil
	case !hasCode(err, codeNotImplemented):
		return false, wrap(ctx, "migrate", err)
	}
	_, err = s.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys, Options: options.Index().SetName(IndexExpiry)})
	if err != nil {
		return false, wrap(ctx, "migrate", err)
	}
	return false, nil
}

// hasCode reports whether err is a server error with one of codes.
func hasCode(err error, codes ...int) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.HasErrorCode(c) {
			return true
		}
	}
	return false
}
