// Package goredis is the Redis session store for applications that
// already use a go-redis client ([github.com/redis/go-redis/v9]):
//
//	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"}) // go-redis
//	st := goredis.New(rdb, redis.Config{})                           // this package
//
// It is a thin layer over the same logic and Lua scripts as package
// [github.com/keycard-go/keycard/store/redis], which uses rueidis: the
// key layout, the round trips, the user index, Scan over every master
// and the capacity figures documented there hold here too, and the two kinds of store can share a
// Redis. Pick that package unless the application already holds a go-redis
// client, whose pooling, TLS, Sentinel or Cluster setup it wants to reuse.
//
// The commands are the same, but go-redis costs more per call: with the
// storetest benchmarks on the same busy 2-core machine (medians of 5 runs),
// Load took 35 µs, Save 110 µs, Create 146 µs, Touch 139 µs and Delete
// 204 µs, against 24, 47, 87, 38 and 54 µs through rueidis.
//
// # Tests
//
// The tests run against the Redis server at 127.0.0.1:6379, or at the
// address in KEYCARD_REDIS_ADDR, and start a private six-node Redis Cluster
// from the redis-server and redis-cli on PATH. Without them the tests skip,
// except under CI=true, where they fail.
package goredis
