package redis_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/keycardtest"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/internal/redistest"
	"github.com/keycard-go/keycard/store/storetest"
)

// harness makes stores on target through client, each under its own key
// prefix, deleted when the test ends.
func harness(target *redistest.Target, client rueidis.Client) storetest.Harness {
	return storetest.Harness{New: func(tb testing.TB, now func() time.Time) store.Store {
		return redis.New(client, redis.Config{Prefix: target.Prefix(tb), Now: now})
	}}
}

func TestStorePassesTheConformanceSuite(t *testing.T) {
	t.Parallel()
	target := redistest.Shared(t)
	storetest.Run(t, harness(target, redistest.Client(t, target.Addrs)))
}

func TestTwoInstancesWithTheirOwnClientsShareSessions(t *testing.T) {
	t.Parallel()
	target := redistest.Shared(t)
	prefix := target.Prefix(t)
	keycardtest.RunShared(t, func(tb testing.TB) store.Store {
		return redis.New(redistest.Client(tb, target.Addrs), redis.Config{Prefix: prefix})
	})
}

func BenchmarkStore(b *testing.B) {
	target := redistest.Shared(b)
	storetest.Bench(b, harness(target, redistest.Client(b, target.Addrs)))
}

// BenchmarkParallelLoad loads sessions from many goroutines at once, as a
// busy server does; rueidis pipelines their GETs on shared connections.
func BenchmarkParallelLoad(b *testing.B) {
	target := redistest.Shared(b)
	s := redis.New(redistest.Client(b, target.Addrs), redis.Config{Prefix: target.Prefix(b)})
	now := time.Now()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = newKey()
		rec := &store.Record{UserID: "user-42", Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour), Data: make([]byte, 200)}
		if err := s.Save(b.Context(), keys[i], rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	var next atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Load(b.Context(), keys[next.Add(1)%uint64(len(keys))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
