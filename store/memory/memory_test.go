package memory_test

import (
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/storetest"
)

// harness makes stores with cfg and the suite's clock.
func harness(cfg memory.Config) storetest.Harness {
	return storetest.Harness{
		New: func(tb testing.TB, now func() time.Time) store.Store {
			c := cfg
			c.Now = now
			s := memory.New(c)
			tb.Cleanup(func() { s.Close() })
			return s
		},
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, harness(memory.Config{}))
}

func TestConformanceWithOneShard(t *testing.T) {
	storetest.Run(t, harness(memory.Config{Shards: 1}))
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, harness(memory.Config{}))
}
