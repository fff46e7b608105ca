// Package memcached is a session store over memcached, for instances that
// already run memcached and can afford to lose sessions: memcached evicts
// and forgets, so users may have to log in again.
//
//	client := memcache.New("10.0.0.5:11211") // github.com/bradfitz/gomemcache
//	client.MaxIdleConns = 100                // at least the requests served at once
//	st := memcached.New(client, memcached.Config{})
//	m, err := keycard.New(keycard.Config{Store: st, Keys: keys})
//
// A [Store] implements [store.Store] and [store.RecordLoader] (a load into
// the caller's record), nothing more: no per-user index (see below) and no
// sweeper, since memcached expires items itself. The client is the caller's,
// with its pooling, timeout and TLS; the store never closes it and starts no
// goroutine. The zero [Config] works.
//
// # When to pick it, and when not
//
// Pick memcached when you already run it, several instances must share
// sessions, and a lost session costs a user no more than logging in
// again. Know what that means:
//
//   - memcached may evict any session at any time: when its memory fills
//     up, the least recently used items go first, and a user whose session
//     is evicted is logged out. Give the server enough memory (see the
//     capacity note) and watch its evictions counter.
//   - Nothing persists: a restart of the server, or of one server of a
//     pool, logs out every user whose session it held.
//   - The store has no per-user index: Manager.Sessions (device lists) and
//     Manager.RevokeUser ("log out everywhere") report
//     store.ErrUnsupported, and keycard.New refuses
//     Config.MaxSessionsPerUser.
//
// Do not pick it when sessions must survive restarts, when users must not
// be logged out under memory pressure, or when you need device lists: use
// Redis with persistence, PostgreSQL or MySQL instead. Logging out one
// session (Manager.Logout, Manager.Revoke with a known hash) works and is
// immediate.
//
// # Why there is no per-user index
//
// Revoking all of a user's sessions needs a list of them. In memcached
// that list would itself be an item that can be evicted, independently of
// the sessions it lists, and there is no way to enumerate keys reliably.
// After an eviction of the index, "log out everywhere" would delete
// nothing and report success while the user's other sessions, perhaps an
// attacker's, stay valid. A revocation that is only best effort is a
// security hole dressed as a feature, so the store does not offer one.
//
// An application that must revoke every session of a user (after a
// password change or a compromise) and still wants memcached sets
// keycard's Config.RevokedBefore to read a per-user time from its durable
// user table: every load of a session older than that time deletes it,
// whatever memcached has evicted (TestRevokedBeforeLogsOutEverywhere).
//
// # Keys and values
//
// The record of the session with key K is the item Prefix+K ("keycard:"
// by default). Keys from the Manager are 64 hex digits and are used as
// they are; any other key, which could break memcached's rules (at most 250
// bytes, no spaces or control characters), is replaced by "#" and its hex
// SHA-256 digest. The item's value is the record's logical version (8
// bytes, big-endian), a layout byte, then [store.EncodeRecord] of the
// record. The version lives in the value because memcached's own CAS
// identifier changes on every write, including a Touch, which must not
// change the version.
//
// A record whose value would not fit in one item (Config.MaxItemSize,
// memcached's -I, 1 MiB by default) keeps only its metadata and a chunk
// reference in its item, and its data in chunk items named
// Prefix+K+":"+nonce+":"+i, written before the record's item under a
// random nonce, never overwritten, and deleted when the record is updated
// or deleted. Loading such a record takes two round trips. The Manager's
// default size limit (64 KiB) never needs chunks.
//
// # Round trips
//
// Load is one get. Save compares versions with memcached's compare-and-swap:
// a create (version 0) is one add, plus a get and a cas when memcached
// still holds an expired record under the key; an update is a get, to
// compare the stored version, then a cas that succeeds only if the item is
// unchanged since: two round trips, where a SQL store or a Redis script
// needs one. Touch is also a get and a cas, since it must rewrite LastSeen
// inside the record: memcached's touch command could only move the item's
// expiration. Delete is a get (to find chunks) and a delete.
//
// Counted with the server's own stats (cmd_get, cmd_set, cas_hits) in
// TestManagerRequestRoundTrips, a keycard request that reads its session
// costs one get and no write; one that changes it costs three round trips
// (the load's get, then the save's get and cas); one that creates a
// session, one add.
//
// # Expiry
//
// Each item gets a memcached expiration computed from the record's Expires
// and Deadline, whichever is earlier, by Config.Now: the remaining time
// rounded up to whole seconds, plus one for memcached's once-a-second
// clock. Up to 30 days it is sent as seconds from now; beyond (a long
// "remember me" deadline), as an absolute Unix time, which memcached
// compares with its server's clock: keep the clocks in sync. Chunks expire
// at the record's Deadline. The store also checks Expires and Deadline
// against Config.Now itself, so a record is absent from the moment it
// expires even while memcached still holds it.
//
// # Contexts and errors
//
// gomemcache takes no context: the store checks ctx before every round
// trip, and the client's Timeout (500 ms by default) bounds the round trip
// in flight. Failures come back wrapped with the store's name and method,
// as in "memcached store: load: dial tcp ...: connection refused", with the
// underlying error reachable through errors.Is and errors.As.
//
// # Capacity
//
// Measured by TestBytesPerSession on memcached 1.6.18 (Debian): 10,000
// sessions with 200 bytes of data, a 70-byte user agent and a user ID each
// (353-byte values) add 498 bytes per session to memcached's "bytes"
// counter, and occupy 600 bytes of slab memory per session (each item
// takes a whole 600-byte chunk of its slab class). A million such sessions
// need about 600 MB of memcached memory (-m 600 or more).
//
// Measured by BenchmarkStore (storetest.Bench: one goroutine, 200-byte
// records) on this project's 2-core machine against memcached on
// loopback, as the median of ten runs (go test -run '^$' -bench .
// -benchmem -count=5, twice) with the best run in brackets. Other builds
// loaded the machine (load average 6 to 10), so the numbers are noisy
// and the best runs are closer to an idle machine: Load 33 µs (14 µs),
// about 30,000 ops/s; Save, an update of two round trips, 57 µs (36 µs),
// 17,500 ops/s; Create 32 µs (23 µs), 31,000 ops/s; Touch, two round
// trips, 62 µs (28 µs), 16,000 ops/s; Delete, two round trips, 36 µs
// (23 µs), 28,000 ops/s. These are one client's sequential round trips;
// memcached serves many clients at once.
//
// # Testing
//
// The tests run against a real memcached at 127.0.0.1:11211, or at the
// address in the environment variable KEYCARD_MEMCACHED_ADDR. Without a
// server they skip, except under CI=true, where they fail.
package memcached
