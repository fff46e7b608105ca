package redis_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/keycardtest"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/internal/redistest"
	"github.com/keycard-go/keycard/store/storetest"
)

// TestStoreOnARedisCluster starts a six-node cluster (three masters, one
// replica each) and runs the suites against a rueidis cluster client, so
// every script, pipeline and index operation meets keys in different
// slots on different nodes.
func TestStoreOnARedisCluster(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t)
	client := redistest.Client(t, cluster.Addrs)
	t.Run("conformance suite", func(t *testing.T) {
		storetest.Run(t, harness(cluster, client))
	})
	t.Run("two instances share sessions", func(t *testing.T) {
		prefix := cluster.Prefix(t)
		keycardtest.RunShared(t, func(tb testing.TB) store.Store {
			return redis.New(redistest.Client(tb, cluster.Addrs), redis.Config{Prefix: prefix})
		})
	})
	t.Run("records and user indexes spread over the masters", func(t *testing.T) {
		testSpread(t, cluster, client)
	})
	t.Run("save batch reports ErrUnsupported and writes nothing", func(t *testing.T) {
		testSaveBatchUnsupported(t, cluster, client)
	})
	t.Run("scan visits each live record once, from every master", func(t *testing.T) {
		// The earlier subtests have deleted their keys: the cluster holds
		// only this subtest's.
		testScanInParts(t, client)
	})
}

// testSpread saves sessions of many users and checks that every master
// holds some records and some user indexes, and that each index sits in
// the slot of its user's hash tag.
func testSpread(t *testing.T, cluster *redistest.Target, client rueidis.Client) {
	f := newFixtureOn(t, cluster, client)
	const users = 60
	for i := range users {
		f.save(newKey(), f.record(fmt.Sprintf("user-%d", i)))
	}
	masters := 0
	for _, addr := range cluster.Addrs {
		role, err := redistest.Command(addr, "ROLE")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(role, "master") {
			continue
		}
		masters++
		keys, err := redistest.Command(addr, "KEYS", f.prefix+"*")
		if err != nil {
			t.Fatal(err)
		}
		records, indexes := strings.Count(keys, f.prefix+"s:"), strings.Count(keys, f.prefix+"u:")
		t.Logf("master %s holds %d records and %d user indexes", addr, records, indexes)
		if records == 0 || indexes == 0 {
			t.Errorf("master %s holds %d records and %d user indexes, want some of each", addr, records, indexes)
		}
	}
	if masters != 3 {
		t.Errorf("got %d masters, want 3", masters)
	}
	slot := func(key string) string {
		s, err := redistest.Command(cluster.Addrs[0], "CLUSTER", "KEYSLOT", key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got, want := slot(f.indexKey("user-7")), slot("user-7"); got != want {
		t.Errorf("index of user-7 is in slot %s, want %s (the slot of its hash tag)", got, want)
	}
}

// testSaveBatchUnsupported checks that SaveBatch on a cluster reports
// ErrUnsupported and leaves the records and the index as they were. (That
// it sends nothing, internal/core's tests check with a backend that
// fails on any call.)
func testSaveBatchUnsupported(t *testing.T, cluster *redistest.Target, client rueidis.Client) {
	f := newFixtureOn(t, cluster, client)
	oldKey, newKey := newKey(), newKey()
	rec := f.record("alice")
	f.save(oldKey, rec)
	err := f.s.SaveBatch(f.ctx, f.renewal(oldKey, newKey, rec))
	if !errors.Is(err, store.ErrUnsupported) || !strings.HasPrefix(err.Error(), "redis store: save batch: ") {
		t.Errorf("SaveBatch on a cluster: got %v, want a redis store error wrapping ErrUnsupported", err)
	}
	if _, err := f.s.Load(f.ctx, newKey); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after SaveBatch on a cluster: Load(new key): got %v, want ErrNotFound", err)
	}
	if got, err := f.s.Load(f.ctx, oldKey); err != nil || got.Version != rec.Version || got.UserID != "alice" {
		t.Errorf("after SaveBatch on a cluster: Load(old key): got %+v, %v, want alice's record at version %d", got, err, rec.Version)
	}
	f.wantIndex("after SaveBatch on a cluster", "alice", entry(oldKey, 1, rec))
}
