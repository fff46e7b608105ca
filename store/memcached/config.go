package memcached

import (
	"fmt"
	"time"
)

const (
	// DefaultPrefix is the key prefix a Store uses when Config.Prefix is
	// empty.
	DefaultPrefix = "keycard:"

	// DefaultMaxItemSize is memcached's default item size limit (its -I
	// option), which a Store assumes when Config.MaxItemSize is zero.
	DefaultMaxItemSize = 1 << 20

	// maxKey is memcached's limit on the length of a key.
	maxKey = 250

	// maxPrefix bounds Config.Prefix so that the longest key a Store
	// makes, a chunk key (see chunkKey), stays within maxKey: 1+64 bytes
	// for the record's name, then ":" + 16 hex digits + ":" + a chunk
	// number.
	maxPrefix = 160

	// itemOverhead is what memcached adds to a value inside an item (the
	// item header, key and suffix), with room to spare. A value of up to
	// MaxItemSize-itemOverhead bytes always fits in one item.
	itemOverhead = 512

	// minItemSize is the smallest Config.MaxItemSize accepted.
	minItemSize = 4 << 10
)

// Config configures a Store. The zero value is a valid configuration.
type Config struct {
	// Prefix starts every key the store writes, so that sessions share a
	// memcached server with other data, and two applications (or test
	// runs) with different prefixes never see each other's sessions. It
	// must be at most 160 bytes with no spaces or control characters,
	// since memcached keys are at most 250 bytes and space-free; New
	// panics otherwise. If empty, "keycard:" is used.
	Prefix string

	// Now returns the current time, against which records expire. It must
	// be safe for concurrent use. If nil, time.Now is used. The store also
	// hands memcached a TTL computed from it, so records the clock says
	// are expired are absent even while memcached still holds them.
	Now func() time.Time

	// MaxItemSize is the largest item the memcached server accepts, its
	// -I option. A record whose encoding does not fit in one item has its
	// data split into chunks of about this size, stored as separate
	// items (see the package documentation). If zero, 1 MiB (memcached's
	// default) is used; it must otherwise be at least 4 KiB, or New
	// panics.
	MaxItemSize int
}

// withDefaults returns c with every zero field set to its default. It
// panics on an invalid field, which is a programming error.
func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if len(c.Prefix) > maxPrefix {
		panic(fmt.Sprintf("memcached store: Config.Prefix is %d bytes, want at most %d", len(c.Prefix), maxPrefix))
	}
	for i := 0; i < len(c.Prefix); i++ {
		if b := c.Prefix[i]; b <= ' ' || b == 0x7f {
			panic(fmt.Sprintf("memcached store: Config.Prefix %q has a space or control character, which memcached keys cannot hold", c.Prefix))
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.MaxItemSize == 0:
		c.MaxItemSize = DefaultMaxItemSize
	case c.MaxItemSize < minItemSize:
		panic(fmt.Sprintf("memcached store: Config.MaxItemSize %d is below the minimum of %d", c.MaxItemSize, minItemSize))
	}
	return c
}
