// Package postgres is a keycard session store in one PostgreSQL table,
// through the application's own [pgxpool.Pool] (github.com/jackc/pgx/v5).
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	...
//	st, err := postgres.New(pool, postgres.Config{})
//	...
//	if err := st.Migrate(ctx); err != nil { ... } // or apply postgres.Schema(table) yourself
//	m, err := keycard.New(keycard.Config{Store: st, Keys: keys})
//
// A [Store] implements [store.Store], [store.UserIndex] (device lists, "log
// out everywhere"), [store.Sweeper] and [store.RecordLoader] (a load into
// the caller's record). The zero [Config] suits production.
// The store owns nothing: pooling, TLS and timeouts are the pool's, and the
// application closes the pool.
//
// # When to pick it
//
// Pick it when the application already runs PostgreSQL and several
// instances must share sessions that survive restarts and deploys: no
// other server to run, sessions backed up with the rest of the data, and
// queryable with SQL. Each request that uses its session costs one
// indexed query, and each change one single-row write that waits for the
// WAL to reach disk: for the highest request rates or a database already
// near its write capacity, prefer Redis. One instance without PostgreSQL
// is served by the memory or SQLite stores.
//
// # Schema
//
// [Store.Migrate] creates the table and its indexes if they do not exist,
// in one transaction under an advisory lock, so every instance may call
// it at startup. It runs the SQL that [Schema] returns for the store's
// Config.Table; teams that run migrations themselves apply that SQL
// instead and never call Migrate. For the default table, with comments
// added here:
//
//	CREATE TABLE IF NOT EXISTS "keycard_sessions" (
//		key        text    PRIMARY KEY,  -- hex SHA-256 of the session ID
//		version    bigint  NOT NULL,     -- compare-and-set version, 1 on create
//		user_id    text    NOT NULL,     -- '' for anonymous sessions
//		created    bigint  NOT NULL,     -- times: Unix nanoseconds, 0 for none
//		last_seen  bigint  NOT NULL,
//		auth_time  bigint  NOT NULL,
//		expires    bigint  NOT NULL,     -- idle expiry, moved by Touch
//		deadline   bigint  NOT NULL,     -- absolute deadline
//		persistent boolean NOT NULL,
//		ip         text    NOT NULL,
//		user_agent text    NOT NULL,
//		data       bytea   NOT NULL      -- the session's values, encoded by the Manager
//	);
//	CREATE INDEX IF NOT EXISTS "keycard_sessions_user_id_idx" ON "keycard_sessions" (user_id) WHERE user_id <> '';
//	CREATE INDEX IF NOT EXISTS "keycard_sessions_expiry_idx" ON "keycard_sessions" ((least(expires, deadline)));
//
// Times are bigint Unix nanoseconds rather than timestamptz, whose
// microseconds would need Expires and Deadline rounded up: nanoseconds
// round-trip exactly, compare as integers, and read in psql as
// to_timestamp(expires / 1e9). The partial user_id index leaves out
// anonymous sessions, usually most of them. The expiry index is on the
// earlier of expires and deadline, the moment a record dies, which is what
// [Store.Sweep] looks for; it needs no separate deadline index. On a large
// existing table, create a missing index CONCURRENTLY by hand rather than
// through Migrate, which would block writes while it builds.
//
// UserID, IP and UserAgent are text: PostgreSQL refuses NUL bytes and
// invalid UTF-8 in them, and Save then fails with a wrapped error. The
// Manager stores a cleaned User-Agent and a formatted IP; keep user IDs
// valid UTF-8.
//
// # One statement per call
//
// Every method is one SQL statement, one round trip:
//
//   - Load is one SELECT by key that also checks expiry.
//   - Save with version 0 (create) is INSERT ... ON CONFLICT (key) DO
//     UPDATE ... WHERE the existing row has expired, so an expired record
//     counts as absent and a live one makes the statement affect no row:
//     [store.ErrConflict].
//   - Save with a version is UPDATE ... WHERE key, version and expiry
//     match; no row affected is [store.ErrConflict].
//   - Touch is an UPDATE of last_seen and expires of a live row; it never
//     inserts, and no row affected is [store.ErrNotFound].
//   - Delete, ListUser and DeleteUser are one statement each.
//
// Under READ COMMITTED, PostgreSQL's default, a statement that finds its
// row changed by a concurrent one re-checks its WHERE clause on the new
// row, so compare-and-set needs no explicit transaction. Under REPEATABLE
// READ or SERIALIZABLE as the connection's default isolation, PostgreSQL
// aborts such a statement with a serialization failure instead, having
// changed nothing; the store then runs it once more in an explicit READ
// COMMITTED transaction, three round trips, which re-checks as the default
// does (the conformance suite passes under both).
//
// Measured with pgx's tracer and by counting the connection's writes
// (TestRequestsCostOneRoundTripPerStoreCall): a Manager request that reads
// its session is 1 SELECT and 0 writes in 1 round trip; one that changes
// it is 1 SELECT and 1 UPDATE in 2; one that touches a session whose last
// activity is stale is 1 SELECT and 1 UPDATE in 2; the first write of a
// new session is 1 INSERT in 1. pgx prepares each statement the first
// time a connection runs it, one more round trip per statement and
// connection, and pgxpool pings a connection idle for a second or more
// before handing it out (pgxpool.Config.ShouldPing). Behind PgBouncer in
// transaction mode before version 1.21, which cannot keep prepared
// statements, set the pool's DefaultQueryExecMode to
// pgx.QueryExecModeExec or pgx.QueryExecModeSimpleProtocol.
//
// # Expiry and sweeping
//
// A record is absent for every method from its Expires or Deadline,
// whichever comes first, by the application's clock (Config.Now), even
// while its row is still in the table. PostgreSQL has no row TTL, so
// expired rows stay until [Store.Sweep] deletes them: call it every few
// minutes from any instance, or several (concurrent sweeps skip each
// other's rows). It deletes at most Config.SweepBatch rows (1,000) per
// statement, found through the expiry index, and repeats until a batch
// comes back short, so no statement holds many locks or writes much WAL
// at once.
//
// # Errors and cancellation
//
// Server and connection errors come back wrapped with the operation, as
// in "postgres store: save: ...", and wrap pgx's errors ([pgconn.PgError],
// [pgconn.ConnectError]) for errors.As. A call whose context ends fails
// with an error that wraps ctx.Err(). With pgx's default handling of a
// cancelled context, the connection is closed and a statement the server
// had already received may still complete: a failed Save may have been
// applied, in which case the next Save of the old version conflicts and
// the Manager reloads, as after any concurrent write. To have the server
// cancel the statement instead, set the pool's
// ConnConfig.BuildContextWatcherHandler to return a
// [pgconn.CancelRequestContextWatcherHandler]; the store reports the
// resulting query_canceled error as ctx.Err() too. After the server
// drops connections (a restart, pg_terminate_backend), each dead pooled
// connection fails one call with a wrapped error and is replaced.
//
// # Capacity
//
// Disk: about 700 bytes per session, table and indexes together (698 to
// 728 over five runs: about 520 for the table, 190 for the three indexes),
// measured by TestBytesPerSession with pg_total_relation_size over 10,000
// sessions with 200 bytes of data, a 110-byte user agent and one user
// each (PostgreSQL 15). A million such
// sessions take about 700 MB, plus expired rows until they are swept and
// the dead row versions that updates leave for autovacuum.
//
// Speed: storetest.Bench (BenchmarkStore, -benchtime=3000x, 10 runs) on a
// 2-core machine shared with other test runs, PostgreSQL 15 on the same
// machine with fsync on, one goroutine making one call at a time; median
// (best) time per call:
//
//	Load      43 µs  (30 µs)   about 23,000 ops/s
//	Save     172 µs (116 µs)   about  5,800 ops/s
//	Create   269 µs (125 µs)   about  3,700 ops/s
//	Touch    719 µs (130 µs)   about  1,400 ops/s
//	Delete   249 µs (124 µs)   about  4,000 ops/s
//
// A write waits for its commit to reach disk, so write times follow the
// disk's flush latency, which other work on the machine made vary tenfold
// between runs. Concurrent callers share flushes: 16 goroutines touching
// at once (BenchmarkParallelWrites) took a median of 100 µs per touch in
// all, about 10,000 touches/s. With synchronous_commit off for the store's
// connections (pgxpool.Config.ConnConfig.RuntimeParams;
// BenchmarkStoreAsyncCommit) writes no longer wait for the disk (median
// Touch 112 µs, best 37 µs), at the cost of losing the last moments of
// session changes if the server crashes.
//
// # Testing
//
// The package's tests run against a real server at
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable, or at the
// connection string in the environment variable KEYCARD_POSTGRES_DSN. Each
// test uses tables of its own and drops them. Without a server the tests
// skip, unless CI=true, where they fail.
package postgres
