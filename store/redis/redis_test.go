package redis_test

import (
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
