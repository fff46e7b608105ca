// Package memory is a bounded in-memory session store, the one to use when
// a single process serves every request.
//
//	st := memory.New(memory.Config{})
//	defer st.Close()
//
// A [Store] implements [store.Store], [store.UserIndex] (device lists, "log
// out everywhere"), [store.Sweeper], [store.RecordLoader] (a load into the
// caller's record) and [store.Batcher] (a renewal's two records saved at
// once). The zero [Config] suits production.
//
// # When to pick it
//
// Pick it for one instance whose users may log in again after a restart or
// deploy: sessions live only in the process, so they are lost when it
// stops. Several instances behind a load balancer need a shared store, such
// as Redis or PostgreSQL; one instance that must keep sessions across
// restarts needs SQLite or another persistent store.
//
// # Memory
//
// The store never holds more than [Config].MaxSessions records, 1,000,000
// by default. Each session costs about 250 bytes of heap plus its key,
// data and strings (rounded up to the next of the arena's block sizes),
// and for a signed-in session its key and user ID once more, in the index
// of users' sessions:
// BenchmarkMemoryPerSession measures 728 bytes per session for 100,000
// sessions with a 64-byte key, 200 bytes of data, a 110-byte user agent
// and one user each (Go 1.26, amd64). A full store at the default bound
// with such sessions takes about 730 MB; set MaxSessions to what the
// machine can spare.
//
// The store keeps its sessions in memory that holds no pointers: per
// shard, one slice of fixed-size slots, a map from a hash of the key to
// a slot, and byte arenas for keys, strings and data, rather than Go
// values per session. The garbage collector does not scan such memory,
// so many stored sessions do not slow the collections that requests'
// garbage causes, nor the requests that wait for them. Space a removed
// session frees is reused by the next; a shard that a burst of sessions
// leaves mostly empty is copied into new memory, so that the rest returns
// to the runtime, and so is the index of users' sessions, at the next
// [Store.Sweep] or [Store.DeleteUser], once most of its entries are free. A loaded record's Data and strings share one
// allocation.
//
// When a new session would exceed the bound, the store first removes every
// expired record, then evicts the record that expires soonest: usually the
// one idle the longest, which was about to end anyway.
//
// Anonymous records (saved without a UserID: visitors who have not signed
// in) have a bound of their own, [Config].MaxAnonymous, a quarter of
// MaxSessions by default, and are evicted first: a flood of cookie-less
// requests from bots evicts only its own oldest sessions, never a
// signed-in user's. When signed-in records alone fill the store, a new
// anonymous record is refused with [store.ErrFull] instead. Evictions and
// refusals are logged as warnings through [Config].Logger, at most one
// line of each kind every ten seconds with the count since the last, and
// counted by [Store.Evictions] and [Store.Refusals]. Updates, touches and
// deletes never evict.
//
// # Expiry
//
// A record is absent for every method from its Expires or Deadline,
// whichever comes first. The store starts no goroutine, so there is nothing
// to leak and nothing to stop: expired records are removed when a Load
// finds one, a few at a time by every write to their shard, all at once
// when the store is full, and by [Store.Sweep], which a program may call
// now and then to return memory sooner after a burst of sessions.
//
// The store keeps times to the nanosecond, as Unix times between the years
// 1678 and 2262; a time outside that span is kept as its nearer end.
//
// # Concurrency
//
// The store is split into shards by a hash of the key, each with its own
// lock, so requests for different sessions rarely wait for each other.
// Save is a compare-and-set on the record's version, as [store.Store]
// requires; [Store.SaveBatch] holds the locks of every shard its keys fall
// in, taken in a fixed order, while it checks every version and then
// writes every record. Records are copied in and out: a caller never shares memory
// with the store.
package memory
