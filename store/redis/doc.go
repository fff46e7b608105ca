// Package redis is a keycard session store in Redis (or Valkey), for
// applications that run several instances behind a load balancer, or that
// want sessions to outlive a deploy without a database. It uses the
// rueidis client; applications that already hold a go-redis client use the
// sub-package [github.com/keycard-go/keycard/store/redis/goredis], which
// shares this package's logic, scripts and key layout.
//
//	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}})
//	if err != nil { … }
//	defer client.Close()
//	m, err := keycard.New(keycard.Config{
//		Store: redis.New(client, redis.Config{}),
//		Keys:  keys, // the same on every instance
//	})
//
// The application creates and owns the client, so it decides pooling,
// timeouts, TLS, ACL credentials, and whether it talks to one server,
// Sentinel or Redis Cluster. The store never closes the client and starts
// no goroutine. A [Store] implements [store.Store], [store.UserIndex]
// (device lists, "log out everywhere"), [store.Scanner] (listing every
// session, for keycard sessions ls and keycard stats), [store.RecordLoader]
// (a load into the caller's record, without allocating one) and
// [store.Batcher] (several records saved in one atomic script, on one
// server); records expire in Redis itself, so it needs no
// [store.Sweeper].
//
// # When to pick it
//
// Pick it when sessions must be shared by several instances and a Redis
// is at hand: a read is one GET, a write one script call, and expiry costs
// nothing. Pick the memory store for a single instance, and an SQL store
// when sessions must survive the loss of the Redis, or when the database
// is already there and the load is modest: Redis keeps sessions in memory,
// and with the usual asynchronous replication a failover can lose the last
// writes (a session may come back at an earlier version, or a new one may
// be gone). Turn on AOF persistence if sessions should survive a Redis
// restart.
//
// Redis 6.2 or later is needed (SET PXAT, ZADD GT); the tests run on
// 7.0. Set maxmemory-policy to noeviction: every key of the store has a
// TTL, so a volatile-* policy would evict live sessions and user indexes
// (an evicted index entry hides a session from [Store.ListUser] and
// [Store.DeleteUser]).
//
// # Keys and values
//
// Every key starts with Config.Prefix ("keycard:" by default):
//
//	keycard:s:<key>          a string: one session record
//	keycard:u:{<user>}       a sorted set: the user's index
//
// <key> is the 64-digit hex key the Manager computes; keys of different
// sessions hash to different cluster slots. <user> is the user ID with
// '%', '{' and '}' percent-escaped, so it is the index key's hash tag and
// each user's index lives whole on one cluster node.
//
// A record's value is a 53-byte binary header (a format byte 'K', the
// version, Expires, Deadline and LastSeen in Unix nanoseconds, the
// deadline in milliseconds, the index token and the user ID's length),
// the user ID, and the record encoded by [store.EncodeRecord]. The Lua
// scripts read the header with GETRANGE, so a compare-and-set never copies
// the session's data into the script, and Touch rewrites the header's
// times in place with SETRANGE. Expires and Deadline round-trip exactly,
// to the nanosecond.
//
// Each index member names one record: the key's 32 bytes in unpadded
// base64url, a dot, and the index token in decimal (about 45 bytes, short
// enough for Redis's compact listpack encoding); its score is the
// record's deadline in Unix milliseconds, rounded up.
//
// # Round trips
//
// Counted on a private server's MONITOR stream by
// TestManagerRequestsCostFewCommands:
//
//	read request (Load)                       GET                      0 writes
//	write request (Load, Save)                GET, EVALSHA
//	new anonymous session (Save)              EVALSHA
//	new session of a user (Save)              EVALSHA
//	touch (Touch)                             EVALSHA
//	records saved at once (SaveBatch)         EVALSHA
//	login or renewal (Load, SaveBatch)        GET, EVALSHA
//	logout (Load, Save, Delete)               GET, EVALSHA ×2
//	device list (ListUser)                    ZRANGE, one pipeline of GETs
//	log out everywhere (DeleteUser)           ZRANGE, one pipeline of EVALSHAs, EVALSHA
//	list every session (Scan)                 DBSIZE and SCAN per master, a pipeline of GETs per batch
//
// Every Save is one Lua script (EVALSHA, falling back to EVAL once per
// server when the script is not loaded yet) that compares versions, writes
// the record with SET … PXAT and keeps the user index up to date, in one
// round trip. [Store.SaveBatch] saves
// several records in one script, which checks every version before it
// writes any record, and then writes each as Save's script does: a login
// or renewal saves the record under its new ID, indexed under its user,
// and the short-lived marker under the old ID, which leaves the index, in
// one EVALSHA. Touch is a script that updates only a live record, never
// creating one.
//
// On Redis Cluster a record and its user's index sit in different slots,
// which one script may not span, so a Save that indexes (a new session of
// a user, a change of user or a later deadline) costs an index script
// first and the record's script then (EVALSHA ×2), and a Save or Delete
// that takes a record from its user is followed by a ZREM: a login or a
// renewal is GET, EVALSHA ×3 and a ZREM there. An update that keeps the
// user and the deadline is one EVALSHA everywhere. SaveBatch reports
// [store.ErrUnsupported] on Redis Cluster, sending nothing, and the
// Manager saves the records one at a time.
//
// # Listing every session
//
// [Store.Scan] walks the keyspace with SCAN … MATCH PREFIXs:* TYPE string
// on every master (the one server; on Redis Cluster, each master, found
// with ROLE, never a replica, which would repeat its master's keys), and
// fetches each batch's records with one pipeline of GETs. SCAN may return
// a key twice when the server resizes its table, so Scan remembers the
// keys it has visited and visits each record once. Its memory stays
// bounded: one batch of records, and the visited keys of one part of the
// keyspace, at most 65,536 keys (about 7 MB). With more keys on the
// servers (DBSIZE, every prefix counted), it cuts the keyspace by the
// keys' leading hex digits and walks it once per part: 18 walks up to a
// million keys, 260 up to 16 million. It is for administration tools,
// never a request path: each walk reads every key of the servers' tables.
//
// # Expiry and clocks
//
// Each record expires in Redis at the earlier of its Expires and Deadline,
// rounded up to the millisecond: PXAT and PEXPIREAT take absolute times
// from the record, so the instances' clocks do not decide when Redis drops
// it. Every method also treats a record as absent from the instant
// Config.Now reaches its Expires or Deadline, to the nanosecond, even
// though Redis still holds it (the scripts compare the header's times
// with the caller's now), so the instances' clocks should agree.
//
// # The user index, and Redis Cluster
//
// On one server (standalone, or Sentinel) Save's script updates the
// record and its user indexes atomically: it adds the record to its
// user's index when the record gets a user, another user or a later
// deadline, and removes the entry of the value it replaces from that
// value's user's index. The script builds the old user's index key from
// the stored record, since the caller cannot name it; Redis and Valkey
// allow a script to touch such a key outside cluster mode. Delete still
// removes the deleted record's index entry with a ZREM after its script.
//
// On Redis Cluster a record and its user's index usually live in
// different slots, so no script can update both atomically. The store
// keeps each index a superset of the user's live records instead; the
// readers below do the same checks on one server, where they find
// fewer stale members:
//
//   - Before a record is saved for a user for the first time (at login),
//     or with a later deadline (a session marked "remember me"), it is
//     added to the user's index; if that fails, the record is not saved.
//   - After a record is deleted or saved for another user (or as
//     anonymous), it is removed from the old user's index. If that fails,
//     a stale member remains, which does no harm.
//   - [Store.ListUser] loads the records its members name (one pipeline,
//     across slots), returns the live ones that still belong to the user,
//     and removes stale members and members whose score (the deadline) has
//     passed. [Store.DeleteUser] deletes, one script per record, the
//     records that still belong to the user, and removes their members.
//   - The index key expires with its longest-lived member.
//
// Each member carries an index token, the record version at which it was
// added, and the record's header keeps the token too. A member whose
// token is one more than the stored version (or 1, over an absent record)
// may belong to a save still in flight, so the readers keep it; any other
// member that does not match its record is stale and cannot become true
// again, since a later re-index uses a newer token. So a reader never
// prunes an entry that a concurrent login is about to rely on. (One case
// is left open: a key deleted and created again at once for the same
// user. The Manager never reuses a key.)
//
// The cost of this split is one extra round trip on Redis Cluster when a
// session changes user, that is at login and logout, and never on the
// read path: a read is one GET, and a write that keeps the user and the
// deadline is one EVALSHA, as for an anonymous session. The key layout
// and the values are the same either way, so instances of either kind
// can share a Redis.
//
// # Capacity
//
// Memory, measured by TestMemoryPerSession on Redis 7.0 (jemalloc) with
// 10,000 sessions, each with 200 bytes of data, a 110-byte user agent and
// a user of its own: 632 bytes per record and 136 bytes per user index
// (MEMORY USAGE), and the server's used_memory grew by 921 bytes per
// session including its hash tables. Sessions of the same user share one
// index; anonymous sessions have none. A million such sessions take about
// 0.9 GB.
//
// Speed, measured by BenchmarkStore (storetest.Bench: one goroutine, one
// request at a time, so it shows latency) against a local Redis 7.0 on a
// 2-core machine that was busy with other test suites (load average
// 9–11), medians of 5 runs: Load 24 µs (42,000 ops/s), Save 47 µs
// (21,000), Create 87 µs (11,500; it also indexes the user, then in a
// second round trip), Touch 38 µs (26,000) and Delete 54 µs (18,500); the
// best runs were about 30% faster. Since Save indexes in its one script,
// a Create costs what a Save does: 82–87 µs against 79–105 µs in a later
// run on a busier machine, where Load took 55 µs. With concurrent requests rueidis pipelines commands on shared
// connections: BenchmarkParallelLoad reaches 112,000 loads/s (8.9 µs per
// load, 6.2 µs at best) from one client on the same 2 cores. One Redis
// thus serves many application instances; Redis Cluster spreads sessions
// and user indexes over its masters.
//
// # rueidis options
//
// The store reads and writes with plain Do and DoMulti, never with
// client-side caching (DoCache), which must not serve a session that
// another instance has changed; its OPTIN tracking leaves these commands
// untracked, so DisableCache is not needed. rueidis retries read-only
// commands (GET, ZRANGE) on network errors until the context ends: give
// requests a deadline, or set ClientOption.DisableRetry, to fail fast
// when Redis is down. Errors come back wrapped with the store's name and
// the operation, as in "redis store: load: dial tcp …".
//
// # Tests
//
// The tests run against the Redis server at 127.0.0.1:6379, or at the
// address in the environment variable KEYCARD_REDIS_ADDR, under a key
// prefix of their own that they delete afterwards. They also start
// private redis-server processes on free loopback ports (a server whose
// counters no other test disturbs, and a six-node Redis Cluster with
// redis-cli --cluster create), which they stop by PID when they end. Without
// the server, or without redis-server and redis-cli on PATH, the tests
// skip, except under CI=true, where they fail.
package redis
