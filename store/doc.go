// Package store defines the contract between a keycard Manager and the place
// where session records live.
//
// Most applications never call a Store directly: they pick one (the in-memory
// store in [github.com/keycard-go/keycard/store/memory], or a database-backed
// one), pass it in keycard.Config, and let the Manager do the rest.
//
// # Writing a store
//
// A store implements [Store]: four methods over opaque keys and [Record]
// values. The Manager does all policy (ID generation and hashing, expiry
// rules, retries, size limits, events); a store only stores. Keys are
// lowercase hex SHA-256 digests of session IDs, so a store never sees a
// usable ID and a dump of it yields none.
//
// Optional powers are separate interfaces that a store may also implement,
// discovered by the Manager with a type assertion at run time, the way
// net/http discovers [net/http.Flusher]:
//
//   - [UserIndex]: list and delete one user's sessions ("log out everywhere").
//   - [Sweeper]: delete expired records on demand.
//   - [Scanner]: enumerate live records, for administration tools.
//
// Every store must pass the conformance suite in
// [github.com/keycard-go/keycard/store/storetest].
package store
