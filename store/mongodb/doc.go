// Package mongodb is a keycard session store in one MongoDB collection,
// through the application's own client (go.mongodb.org/mongo-driver/v2).
//
//	client, err := mongo.Connect(options.Client().ApplyURI(os.Getenv("MONGODB_URI")))
//	...
//	st, err := mongodb.New(client.Database("app"), mongodb.Config{})
//	...
//	if _, err := st.Migrate(ctx); err != nil { ... } // the indexes; idempotent
//	m, err := keycard.New(keycard.Config{Store: st, Keys: keys})
//
// A [Store] implements [store.Store], [store.UserIndex] (device lists, "log
// out everywhere"), [store.Scanner] (keycard sessions ls, keycard stats),
// [store.Sweeper] and [store.RecordLoader] (a load into the caller's
// record). The zero [Config] suits production. The store owns
// nothing: pooling, TLS, credentials and timeouts are the client's, and
// the application disconnects it.
//
// # When to pick it
//
// Pick it when the application already runs MongoDB and several instances
// must share sessions that survive restarts: no other server to run, and
// expired sessions removed by the server itself. A read is one find by
// _id, a write one conditional command.
//
// # Tested on FerretDB, not MongoDB
//
// The repository's tests, and CI, run against FerretDB 1.24 (a MongoDB
// wire-protocol server written in Go, on SQLite), because no MongoDB is
// packaged for the machines they run on. The store uses only what MongoDB
// has had since 4.2: string _id keys, find, insert, replace with upsert
// and a filter, update with $set (including an array element,
// expire_at.0), deleteOne and deleteMany, a batched cursor, createIndexes
// with a TTL index (expireAfterSeconds: 0) on an array of dates, duplicate
// key errors (11000), and buildInfo. Where FerretDB 1.x differs, the store
// adapts, as described below, and says so in this documentation: it has no
// TTL indexes (createIndexes answers NotImplemented), and its updates are
// not atomic. The conformance suite (store/storetest) and
// keycardtest.RunShared pass on FerretDB with no case skipped; the MongoDB
// write path (one command per write) runs in CI too, by
// TestWritesAreOneCommandOnMongoDB, but without concurrent writers, which
// FerretDB could not serve correctly on that path.
//
// # Documents
//
// Each session is one document, its _id the session key (the 64 hex
// digits of the ID's SHA-256, never a usable ID):
//
//	{
//	  _id:        "9f86d0…",   // string: the session key
//	  version:    3,           // int64: compare-and-set version, 1 on create
//	  user_id:    "alice",     // string: "" for anonymous sessions; indexed
//	  created:    …,           // int64 Unix nanoseconds, 0 for none
//	  last_seen:  …,           //   (so are the four times below)
//	  auth_time:  …,
//	  expires:    …,           //   idle expiry, moved by Touch
//	  deadline:   …,           //   absolute deadline
//	  expire_at:  [date, date],// BSON dates of expires and deadline, in ms
//	                           //   rounded up, for the TTL index
//	  persistent: true,
//	  ip:         "203.0.113.7",
//	  user_agent: "Mozilla/5.0 …",
//	  data:       BinData(…)   // the session's values, encoded by the Manager
//	}
//
// Times are int64 nanoseconds, as in the SQL stores, so Expires and
// Deadline round-trip exactly and compare as integers; expire_at repeats
// them as BSON dates, whose precision is the millisecond, only for
// expiry. [Store.Migrate] creates two indexes: user_id (named "user_id"),
// for ListUser and DeleteUser, and expire_at (named "expire_at"), a TTL
// index with expireAfterSeconds 0 where the server has them. MongoDB's TTL
// monitor removes a document once the earliest date of its expire_at
// array has passed, checking about once a minute; Touch moves the first
// date, the deadline's never moves.
//
// Limits: a document is at most 16 MiB (MongoDB's BSON limit, and
// FerretDB's by default), so a session's data must stay some hundred
// bytes below that, or Save fails with a wrapped error. user_id, ip and
// user_agent are BSON strings: keep user IDs valid UTF-8 (the Manager
// cleans the other two). The collection name is an identifier of ASCII
// letters, digits and underscores, at most 64 bytes; the store also uses
// COLLECTION_locks on FerretDB.
//
// # One command per call, on MongoDB
//
//   - Load is one find by _id; a record whose expires or deadline is not
//     after Config.Now is absent, even while its document remains.
//   - Save with a version is a replace whose filter names the key, the
//     version and a live record: MongoDB applies it to one document
//     atomically, and no match is [store.ErrConflict].
//   - Save with version 0 (create) is an upserting replace whose filter
//     matches only an expired document under the key: with none, the
//     server inserts; with a live one, the insert fails as a duplicate
//     _id, which is [store.ErrConflict].
//   - Touch is one update of a live document that never inserts; Delete,
//     ListUser and DeleteUser are one command each; Scan is one find
//     whose cursor returns batches of 256 documents.
//
// # Writes on FerretDB 1.x
//
// FerretDB 1.x applies an update, a replace or a delete as a query
// followed by a write by _id, with nothing in between to stop another
// client: two saves that read the same version would both succeed, and
// the second would undo the first. Its one atomic conditional write is an
// insert, which fails on an existing _id. The store asks the server's
// buildInfo once; on FerretDB it serializes the writes of each key with a
// lock document: a Save inserts {_id: KEY} into COLLECTION_locks (a held
// lock is a conflict, as a failed compare-and-set is), reads and checks
// the record, replaces or inserts it, and deletes the lock, four round
// trips; Touch waits for the lock instead, backing off up to 50 ms, and
// reads, checks and updates the record, four round trips too. A
// lock older than 30 seconds (its writer died) is taken over. A lock
// attempt, and the commands under a lock, run to their end (up to 10
// seconds) even when the caller's context ends first: the server may
// apply a command the client gave up on, and a lock taken so would be
// held for nobody, a write landed so would follow the lock's release.
// A context that ended stops a writer before it tries to lock. Delete needs
// no lock: a write that follows it finds nothing to update. DeleteUser
// and Sweep take none either: on FerretDB each is a query and then deletes
// by _id, so a record saved in between (moved to another user, or touched
// back to life) may be deleted with the others; on MongoDB the filter is
// checked as each document is deleted. FerretDB's
// SQLite backend looks a document up by index only for a filter on _id
// alone; ListUser, DeleteUser, Scan and Sweep read the whole collection
// there, which MongoDB serves from the user_id and expire_at indexes.
//
// # Expiry and sweeping
//
// A record is absent for every method from its Expires or Deadline,
// whichever comes first, by the application's clock (Config.Now). On
// MongoDB the TTL index removes expired documents within about a minute,
// and [Store.Sweep] is optional. FerretDB 1.x has no TTL indexes:
// Migrate then creates a plain index on expire_at and reports it (its
// result is false), and expired documents stay until Sweep deletes them:
// call it every few minutes from any instance (keycard gc does). Sweep
// finds at most Config.SweepBatch (1,000) expired documents at a time
// through the expire_at index and deletes them by _id, until a batch comes
// back short.
//
// # Errors and cancellation
//
// Server and connection errors come back wrapped with the operation, as in
// "mongodb store: save: ...", and wrap the driver's errors
// ([mongo.ServerError], [mongo.CommandError]) for errors.As. A call whose
// context ends fails with an error that wraps ctx.Err().
//
// # Capacity
//
// Measured on FerretDB 1.24.2 on SQLite only; MongoDB (WiredTiger,
// compressed) will differ, and its one-command writes will be faster.
// Storage: 1,521 bytes per session, documents and indexes (collStats
// totalSize: 1,372 for the documents, 149 for the indexes), measured by
// TestBytesPerSession over 2,000 sessions with 200 bytes of data, a
// 110-byte user agent and one user each. Speed: storetest.Bench
// (BenchmarkStore), one goroutine making one call at a time against a
// FerretDB on the same busy 2-core machine, -benchtime=300x, medians of 3
// runs:
//
//	Load     2.3 ms   one find by _id
//	Save    22   ms   lock, find, replace, unlock (FerretDB's path)
//	Create   5.7 ms   lock, find, insert, unlock
//	Touch    7.0 ms   lock, find, update, unlock
//	Delete   2.9 ms   one delete
//
// Each FerretDB write waits for SQLite's commit, which dominates these
// times; they say what CI's server costs, not what MongoDB would.
//
// # Testing
//
// The tests run against the server at mongodb://127.0.0.1:27017, or at
// the URL in the environment variable KEYCARD_MONGODB_URL, in the database
// keycard_test, each on collections of its own that it drops. CI builds
// FerretDB 1.24.2 from the Go module proxy and starts it on SQLite
// (.ci/run shows how). Without a server the tests skip, unless CI=true,
// where they fail.
package mongodb
