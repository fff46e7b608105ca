// Package mysql is a session store in one MySQL or MariaDB table, for
// several application instances that already run one of those servers.
//
//	db, err := sql.Open("mysql", "app:secret@tcp(db:3306)/app")
//	...
//	db.SetMaxOpenConns(50) // well below the server's max_connections
//	st, err := mysql.New(db, mysql.Config{})
//	...
//	if err := st.Migrate(ctx); err != nil { ... }
//	m, err := keycard.New(keycard.Config{Store: st, Keys: keys})
//
// A [Store] implements [store.Store], [store.UserIndex] (device lists, "log
// out everywhere"), [store.Sweeper] and [store.RecordLoader] (a load into
// the caller's record). It works through database/sql with
// [github.com/go-sql-driver/mysql] on MySQL 8.0 and later and MariaDB 10.6
// and later, with SQL that both accept (see Portability). Its tests have
// run against MariaDB 10.11; on MySQL it relies only on behaviour that
// MySQL documents, named below where it matters. The zero [Config] suits
// production: the table is "keycard_sessions".
//
// # When to pick it
//
// Pick it when the instances behind a load balancer share a MySQL or
// MariaDB server anyway and sessions must survive restarts and deploys.
// Every request that uses its session costs one primary-key SELECT, and a
// request that changes it one more statement, a durable commit: on this
// machine a read takes 0.1 to 0.25 ms and a write 0.4 to 2 ms, bound by
// the server's log flush (innodb_flush_log_at_trx_commit=1). An application
// with no SQL server, or with heavy write traffic, is better served by
// Redis; a single instance by the memory store.
//
// # Schema
//
// [Store.Migrate] runs the statement that [Schema] returns, which is
// idempotent on both servers; teams that run migrations with their own
// tools can run it instead. For the default table:
//
//	CREATE TABLE IF NOT EXISTS `keycard_sessions` (
//	  `session_key` VARBINARY(255) NOT NULL,
//	  `version` BIGINT UNSIGNED NOT NULL,
//	  `user_id` VARBINARY(255) NOT NULL,
//	  `created` BIGINT NOT NULL,
//	  `last_seen` BIGINT NOT NULL,
//	  `auth_time` BIGINT NOT NULL,
//	  `expires` BIGINT NOT NULL,
//	  `deadline` BIGINT NOT NULL,
//	  `live_until` BIGINT NOT NULL,
//	  `persistent` TINYINT NOT NULL,
//	  `touched` TINYINT NOT NULL,
//	  `ip` VARBINARY(255) NOT NULL,
//	  `user_agent` VARBINARY(1024) NOT NULL,
//	  `data` LONGBLOB NOT NULL,
//	  PRIMARY KEY (`session_key`),
//	  KEY `user_id` (`user_id`),
//	  KEY `live_until` (`live_until`)
//	) ENGINE=InnoDB
//
// Each field of a [store.Record] has its column. Strings are byte strings
// (VARBINARY), so user IDs compare exactly, whatever the server's default
// collation, and the table needs no character set. Times are Unix
// nanoseconds (0 for the zero time), so they round-trip exactly; times
// outside the years 1678 to 2262 are clamped. live_until is the earlier of
// expires and deadline: a record is live while live_until is after the
// current time, which every statement tests, and the sweeper deletes on
// its index. touched flips on every Touch (see below). Save refuses a key,
// user ID or IP longer than 255 bytes and a user agent longer than 1024,
// rather than let a server in a non-strict sql_mode truncate them; the
// Manager's keys are 64 bytes and it caps user agents at 256.
//
// # One statement per operation
//
// Every method but DeleteUser and Sweep is one statement, one round trip;
// the current time comes from [Config].Now, never from the server's clock.
// Load is a SELECT by primary key with "AND live_until > now". Save with
// version 0 is
//
//	INSERT INTO t (...) VALUES (...) ON DUPLICATE KEY UPDATE
//	  version = IF(live_until > now, LAST_INSERT_ID(version), 1),
//	  touched = IF(live_until > now, touched, 1 - touched),
//	  user_id = IF(live_until > now, user_id, <new>), ...,
//	  live_until = IF(live_until > now, live_until, <new>)
//
// which creates the row, replaces an expired one, or leaves a live one
// untouched. Both servers evaluate these assignments left to right, each
// seeing the columns already assigned, so live_until, on which every
// condition depends, is assigned last. A new row affects 1 row, a replaced
// one 2 (touched flips, so the row changes even when the new record equals
// the expired one), and a kept live row 0, or 1 when the DSN sets
// clientFoundRows=true, which would make it look like an insert: so the
// kept row also reports its version as the statement's insert ID, through
// LAST_INSERT_ID(version), and any non-zero insert ID means conflict. (Both
// servers document that a statement that sets a column with
// LAST_INSERT_ID(expr) sends expr to the client as its insert ID; the
// table has no AUTO_INCREMENT column, so the ID is otherwise 0. Should a
// server not send it, the default clientFoundRows=false still tells a
// kept row by its 0 rows affected.)
// Save with a version is an UPDATE of every column with "version =
// version + 1" and "WHERE session_key = ? AND version = ? AND live_until >
// now"; the version always changes, so 0 rows affected means conflict.
// Touch is an UPDATE of last_seen, expires and live_until "WHERE
// session_key = ? AND live_until > now"; a touch that repeats the stored
// times would change nothing and affect 0 rows under the default
// clientFoundRows=false, so it also flips touched, and 0 rows always means
// ErrNotFound. Delete is a DELETE by primary key. ListUser is a SELECT on
// the user_id index; DeleteUser deletes the user's live records, which it
// counts, then the expired ones. Sweep repeats "DELETE ... WHERE
// live_until <= now ORDER BY live_until LIMIT n" ([Config].SweepBatch,
// 1000 by default) until a statement deletes fewer than n rows, so no
// statement locks more than a batch.
//
// # DSN and round trips
//
// The store puts every value into its statements as a literal: byte
// strings as hexadecimal literals (X'6869'), integers in decimal, and the
// table name only after checking it holds nothing but letters, digits and
// underscores. It passes database/sql no arguments, so go-sql-driver sends
// each statement as a single COM_QUERY, one round trip, whatever the DSN
// says: without interpolateParams=true a query with arguments would cost a
// prepare and an execute, two round trips, plus a close. Hexadecimal needs
// no escaping, so statements mean the same under every sql_mode
// (NO_BACKSLASH_ESCAPES, ANSI_QUOTES) and connection character set. No DSN
// option is required: clientFoundRows may be either value, parseTime does
// not matter (times are integers), and interpolateParams changes nothing.
// The tests run the whole conformance suite with the default DSN and again
// with clientFoundRows=true, and count round trips with both values of
// interpolateParams.
//
// Hexadecimal doubles the size of a value on the wire, and a create
// carries its values twice (in VALUES and in the update clause), so a
// create statement is about 4 times the session's data and an update
// about 2 times. The server refuses statements longer than its
// max_allowed_packet: 16 MiB by default on MariaDB (sessions of up to about
// 4 MiB), 64 MiB on MySQL 8. The Manager's default MaxSize, 64 KiB, makes
// statements of at most about 260 KiB.
//
// # Portability
//
// The store uses only SQL that MySQL 8.0 and MariaDB 10.6 both accept, and
// avoids:
//
//   - VALUES(col) in ON DUPLICATE KEY UPDATE, deprecated since MySQL
//     8.0.20, and its replacement, a row alias (INSERT ... VALUES (...) AS
//     new), which MariaDB does not accept: the update clause repeats the
//     literals instead;
//   - RETURNING, which only MariaDB has, and user variables assigned in
//     expressions (@live := ...), deprecated in MySQL 8: the outcome of a
//     create comes from the rows-affected count and the insert ID of the
//     OK packet;
//   - CREATE INDEX IF NOT EXISTS, which only MariaDB has: the indexes are
//     inline in CREATE TABLE IF NOT EXISTS;
//   - generated columns for live_until, whose value in the middle of an
//     ON DUPLICATE KEY UPDATE is not something to rely on: the store
//     writes it;
//   - the reserved word KEY as a column name: the key column is
//     session_key.
//
// DELETE with LIMIT is unsafe for statement-based replication: on a
// server with binlog_format=STATEMENT the sweeper's statements log a
// warning (MySQL 8 defaults to ROW, and MariaDB's MIXED switches to row
// logging for them).
//
// # Failures
//
// Errors other than [store.ErrNotFound] and [store.ErrConflict] come back
// wrapped with the store and the method, as in "mysql store: load: dial
// tcp 127.0.0.1:3306: connect: connection refused", and errors.Is sees the
// cause, such as a context's error. A connection that the server killed
// or that timed out is noticed by the driver before the next statement is
// sent on it, and database/sql dials a new one; a statement in flight on
// it fails with an error. As with any server, a statement whose caller
// gave up (its context ended) may still complete on the server.
//
// # Capacity
//
// BenchmarkBytesPerSession measures 1,217 bytes per session on the server
// (DATA_LENGTH + INDEX_LENGTH after ANALYZE TABLE: 900 bytes of rows,
// 318 of secondary indexes) for 10,000 sessions with 200 bytes of data, a
// user ID, an IP and a 111-byte user agent, under random keys as the
// Manager makes them (MariaDB 10.11, InnoDB, 16 KiB pages, which random
// inserts leave partly empty). A million such sessions take about 1.2 GB.
//
// storetest.Bench on this machine (2 cores shared with other work,
// MariaDB 10.11 on the same host, innodb_flush_log_at_trx_commit=1), one
// operation at a time, over four runs:
//
//	Load     0.10–0.24 ms/op   4,000–10,000 ops/s
//	Save     0.39–1.44 ms/op     700–2,600 ops/s
//	Create   0.34–1.96 ms/op     500–2,900 ops/s
//	Touch    0.39–3.64 ms/op     270–2,500 ops/s
//	Delete   0.40–0.96 ms/op   1,000–2,500 ops/s
//
// Writes wait for the redo log's flush to disk, so they vary with the
// disk and the machine's load, and concurrent writers share flushes: 8
// writers created 1,600 to 7,900 sessions a second.
//
// # Tests
//
// The tests use the server at root@tcp(127.0.0.1:3306)/test, or the DSN
// in the environment variable KEYCARD_MYSQL_DSN. Each test works in its
// own table, keycard_test_<run>_<n>, and drops it. Without a server they
// skip, except under CI=true, where they fail.
package mysql
