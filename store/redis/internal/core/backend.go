// Package core is the Redis session store's logic, written once over a
// small Backend interface that each client library implements: rueidis in
// package redis, go-redis in package redis/goredis.
package core

import "context"

// Backend is the handful of Redis operations the store needs. Errors are
// returned as the client library reports them; the store wraps them.
type Backend interface {
	// Get returns the value of key, or nil and no error when key does not
	// exist.
	Get(ctx context.Context, key string) ([]byte, error)

	// GetMulti gets keys, which may live in different cluster slots, in
	// one pipeline. A missing key gives a nil value.
	GetMulti(ctx context.Context, keys []string) ([][]byte, error)

	// ZRange returns every member of the sorted set at key with its score,
	// in score order.
	ZRange(ctx context.Context, key string) ([]Member, error)

	// ZRem removes members from the sorted set at key.
	ZRem(ctx context.Context, key string, members ...string) error

	// Eval runs s with keys and args and returns its array reply.
	Eval(ctx context.Context, s *Script, keys, args []string) ([]string, error)

	// EvalMulti runs s once per call in one pipeline; calls may address
	// keys in different cluster slots. It returns one reply per call, or
	// the first error.
	EvalMulti(ctx context.Context, s *Script, calls []Call) ([][]string, error)

	// Masters returns the servers that hold the keyspace, for Scan: the
	// one server of a standalone or Sentinel deployment, every master of
	// a Redis Cluster (never a replica, which would repeat its master's
	// keys).
	Masters(ctx context.Context) ([]Node, error)

	// OneServer reports whether every key lives on one server, so that
	// one script may touch keys of different cluster slots: true for a
	// client of a standalone server or of Sentinel, false for Redis
	// Cluster or a client that shards keys itself (a go-redis Ring).
	OneServer() bool
}

// Member is a sorted set member and its score.
type Member struct {
	Name  string
	Score float64
}

// Call is one run of a script in EvalMulti.
type Call struct {
	Keys []string
	Args []string
}
