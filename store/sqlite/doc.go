// Package sqlite is a session store in an SQLite database file, the one to
// use when one server must keep its sessions across restarts and deploys.
// It needs no server and no cgo: the driver, modernc.org/sqlite, is SQLite
// compiled to Go.
//
//	st, err := sqlite.Open("/var/lib/myapp/sessions.db", sqlite.Config{})
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//	m, err := keycard.New(keycard.Config{Store: st, Keys: keys})
//
// A [Store] implements [store.Store], [store.UserIndex] (device lists, "log
// out everywhere"), [store.Sweeper] and [store.RecordLoader] (a load into
// the caller's record). The zero [Config] suits production.
//
// # When to pick it
//
// Pick it for one machine: a single server process, or a few processes on
// one host sharing the file (SQLite's locks work between processes there).
// Sessions survive restarts, unlike with the memory store, and there is
// nothing to run beside the application. Servers on several hosts need a
// networked store (Redis, PostgreSQL, MySQL): SQLite's write-ahead log
// needs memory shared by the processes, so the file must be on a local
// file system, never NFS or SMB. Open refuses a database that cannot use
// the log, such as ":memory:".
//
// SQLite runs one write at a time. Every request
// that changes a session (a login, a Put, a touch of an idle session) is
// one write of well under a millisecond, so a server does thousands of
// them a second; reads run in parallel and never wait for writes.
//
// # Open, New and the schema
//
// [Open] opens or creates the file with the settings of [DSN] (write-ahead
// logging, a busy timeout, synchronous=NORMAL) and creates the table and
// its indexes if they are missing, by calling [Store.Migrate]: an
// embedded database has no one else to do it. [New] takes a *sql.DB of
// your own, for your own pool settings or a database shared with the rest
// of the application; open it with [DSN], and call [Store.Migrate] or apply
// the SQL that [Schema] returns with your migrations. Migrate runs that
// same SQL; it is idempotent and safe to run from every process at
// startup.
//
// The default table, keycard_sessions ([Config].Table changes the name),
// has one row per session:
//
//	CREATE TABLE IF NOT EXISTS "keycard_sessions" (
//		key        TEXT    NOT NULL PRIMARY KEY,
//		version    INTEGER NOT NULL,
//		user_id    TEXT    NOT NULL,
//		created    INTEGER NOT NULL,
//		last_seen  INTEGER NOT NULL,
//		auth_time  INTEGER NOT NULL,
//		expires    INTEGER NOT NULL,
//		deadline   INTEGER NOT NULL,
//		persistent INTEGER NOT NULL,
//		ip         TEXT    NOT NULL,
//		user_agent TEXT    NOT NULL,
//		data       BLOB    NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS "keycard_sessions_user_id_idx" ON "keycard_sessions" (user_id) WHERE user_id <> '';
//	CREATE INDEX IF NOT EXISTS "keycard_sessions_expiry_idx" ON "keycard_sessions" (min(expires, deadline));
//
// The record's fields are columns, not one encoded blob, so that the
// database is readable with the sqlite3 shell, Touch changes two integers
// without decoding anything, and the indexed fields are stored once.
// Times are Unix nanoseconds (0 for the zero time), so they round-trip
// exactly. The key is the Manager's hex SHA-256 digest of the session ID,
// never the ID. The table keeps its rowid: rows hold up to the Manager's
// MaxSize of data, and a clustered WITHOUT ROWID table measured 23% larger
// and 10 to 20% slower to write, for loads 3 µs faster. The partial index on user_id serves ListUser and
// DeleteUser and leaves anonymous sessions out; the index on
// min(expires, deadline) serves Sweep.
//
// # Consistency
//
// Each method is one SQL statement, prepared once per connection; Save is
// a compare-and-set in that statement: an UPDATE ... WHERE key = ? AND
// version = ? AND the row is live, or for version 0 an INSERT ... ON
// CONFLICT DO UPDATE that only overwrites an expired row, and no row
// changed means [store.ErrConflict]. A record whose Expires or Deadline is
// not after [Config].Now counts as absent for every method before Sweep
// deletes it.
//
// Writes through one *sql.DB queue in the store, where a waiting writer
// honours its context, instead of polling SQLite's lock; SQLite's busy
// timeout ([Config].BusyTimeout, 5 seconds) covers writers in other
// handles and processes, after which a write fails with a wrapped
// SQLITE_BUSY. When many requests update one session at once, the saves
// that the store already knows to be stale (it has since seen the session
// at another version) fail without a statement, so the queue drains
// quickly; see doomedSaves in the source.
//
// # Durability
//
// With write-ahead logging, a commit appends the changed pages to the
// sessions.db-wal file before the write returns. Under the default
// synchronous=NORMAL the log is not flushed to the disk at each commit,
// only when SQLite checkpoints it into the database file (about every
// 1,000 pages, 4 MB). So:
//
//   - Every write that returned is kept if the process crashes or is
//     killed (kill -9 included): the operating system has the log's pages
//     and writes them out, and the next Open recovers them. A test kills a
//     writer process mid-write and finds every acknowledged session and an
//     intact database.
//   - A power loss or operating system crash may lose the writes since
//     the last checkpoint, never corrupting the database. For sessions
//     that means some users log in again, or a last change is missing.
//
// Set [Config].FullSync for synchronous=FULL, which flushes the log at
// every commit so that acknowledged writes also survive a power loss; it
// costs an fsync per write: a save took 0.15 to 0.6 ms on this machine's
// disk, depending on its load, instead of 0.04 to 0.08 ms
// (BenchmarkStoreFullSync).
//
// # Expiry
//
// SQLite has no expiry of its own: expired rows stay, invisible, until
// [Store.Sweep] deletes them. Call Sweep every few minutes from one
// process; it deletes [Config].SweepBatch rows (1,000) per statement, each
// its own short transaction, so other writers wait for one batch at most.
// Freed pages are reused by new sessions; the file does not shrink (run
// VACUUM by hand to shrink it).
//
// # Capacity
//
// The database file takes 637 bytes per session, measured with 100,000
// sessions each with 200 bytes of data, a user ID, an IP address and a
// 110-byte browser user agent, after a checkpoint:
// BenchmarkBytesPerSession, run with
//
//	go test -run '^$' -bench BytesPerSession -benchtime 1x ./store/sqlite/
//
// Of that, 513 bytes is the row and 124 bytes the three indexes. A million
// sessions take about 640 MB of disk.
//
// storetest.Bench on this machine (2 virtual cores of an Intel Xeon, ext4
// on a virtual disk, Go 1.26, one goroutine), on a quiet machine and with
// other engineers' test suites loading it (load average 4):
//
//	go test -run '^$' -bench 'BenchmarkStore$' -benchtime 2s ./store/sqlite/
//
//	         quiet                 loaded
//	Load     18 µs   57,000/s      16-19 µs
//	Save     41 µs   24,000/s      47-63 µs   (an update)
//	Create   47 µs   21,000/s      70-86 µs
//	Touch    19 µs   51,000/s      22-37 µs
//	Delete   43 µs   23,000/s      53-76 µs
//
// Reads run in parallel on every core; writes take turns, so the write
// rates are those of the whole database. Under the race detector, which
// instruments SQLite itself, everything is about 20 times slower.
//
// A Manager request that reads its session runs one statement (the Load);
// one that changes it runs two (Load, then Save), as
// TestManagerRequestsRunOneStatementPerStoreCall counts with a counting
// driver.
//
// # Tests
//
// The tests need no server: each makes its database files in a new
// temporary directory, or under $KEYCARD_SQLITE_TEST_DIR if it is set, to
// run them on a particular file system.
package sqlite
