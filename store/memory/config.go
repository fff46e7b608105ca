package memory

import (
	"log/slog"
	"math/bits"
	"time"
)

const (
	defaultMaxSessions = 1_000_000
	defaultShards      = 64
	maxShards          = 1 << 16
)

// Config configures a Store. The zero value is a valid configuration.
type Config struct {
	// MaxSessions bounds the number of records the store holds, counting
	// expired records not yet removed. A save that would create a record
	// in a full store first removes every expired record, and if none had
	// expired, evicts the record that expires soonest. Updates, touches
	// and deletes never evict. If zero, 1,000,000 is used.
	MaxSessions int

	// MaxAnonymous bounds how many of those records may be anonymous
	// (saved without a UserID), so that visitors who never sign in
	// cannot crowd out those who did. A new anonymous record past it, or
	// in a full store, evicts the anonymous record that expires soonest;
	// signed-in records are never evicted for an anonymous one, and when
	// they alone fill the store, creating an anonymous record fails with
	// [store.ErrFull]. If zero, a quarter of MaxSessions is used; it is at
	// most MaxSessions.
	MaxAnonymous int

	// Logger receives the store's warnings: evictions and refusals, at
	// most one line per kind every ten seconds, each with the count since
	// the last. If nil, slog.Default() is used.
	Logger *slog.Logger

	// Now returns the current time, against which records expire. It must
	// be safe for concurrent use. If nil, time.Now is used.
	Now func() time.Time

	// Shards is how many independently locked parts the store is split
	// into, rounded up to a power of two and at most 65,536: more shards,
	// less contention between goroutines, a little more memory. If zero,
	// 64 is used.
	Shards int
}

// withDefaults returns c with every zero field set to its default. It
// panics on negative values, which are programming errors.
func (c Config) withDefaults() Config {
	if c.MaxSessions < 0 {
		panic("memory store: negative Config.MaxSessions")
	}
	if c.MaxAnonymous < 0 {
		panic("memory store: negative Config.MaxAnonymous")
	}
	if c.Shards < 0 {
		panic("memory store: negative Config.Shards")
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = defaultMaxSessions
	}
	if c.MaxAnonymous == 0 {
		c.MaxAnonymous = max(c.MaxSessions/4, 1)
	}
	c.MaxAnonymous = min(c.MaxAnonymous, c.MaxSessions)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Shards == 0 {
		c.Shards = defaultShards
	}
	c.Shards = 1 << bits.Len(uint(min(c.Shards, maxShards)-1))
	return c
}
