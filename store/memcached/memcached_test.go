package memcached_test

import (
	"testing"
	"time"

	"github.com/keycard-go/keycard/keycardtest"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memcached"
	"github.com/keycard-go/keycard/store/storetest"
)

// harness makes stores with cfg and the suite's clock, each under a prefix
// of its own, over one client per test.
func harness(cfg memcached.Config) storetest.Harness {
	return storetest.Harness{
		New: func(tb testing.TB, now func() time.Time) store.Store {
			c := cfg
			c.Prefix, c.Now = newPrefix(), now
			return memcached.New(newClient(tb), c)
		},
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, harness(memcached.Config{}))
}

// With 4 KiB items, the suite's 1 MiB record is split into some 300
// chunks, which exercises chunking on every path.
func TestConformanceWithSmallItems(t *testing.T) {
	storetest.Run(t, harness(memcached.Config{MaxItemSize: 4 << 10}))
}

func TestSharedByTwoInstances(t *testing.T) {
	prefix := newPrefix()
	keycardtest.RunShared(t, func(tb testing.TB) store.Store {
		return memcached.New(newClient(tb), memcached.Config{Prefix: prefix})
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, harness(memcached.Config{}))
}
