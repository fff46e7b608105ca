package goredis_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	goredislib "github.com/redis/go-redis/v9"

	"github.com/keycard-go/keycard/keycardtest"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/goredis"
	"github.com/keycard-go/keycard/store/redis/internal/redistest"
	"github.com/keycard-go/keycard/store/storetest"
)

// client returns a go-redis client for target, closed when tb ends: a
// ClusterClient for a cluster.
func client(tb testing.TB, target *redistest.Target) goredislib.UniversalClient {
	var c goredislib.UniversalClient
	if target.Cluster {
		c = goredislib.NewClusterClient(&goredislib.ClusterOptions{Addrs: target.Addrs})
	} else {
		c = goredislib.NewClient(&goredislib.Options{Addr: target.Addrs[0]})
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func harness(target *redistest.Target, c goredislib.UniversalClient) storetest.Harness {
	return storetest.Harness{New: func(tb testing.TB, now func() time.Time) store.Store {
		return goredis.New(c, redis.Config{Prefix: target.Prefix(tb), Now: now})
	}}
}

func TestStorePassesTheConformanceSuite(t *testing.T) {
	t.Parallel()
	target := redistest.Shared(t)
	storetest.Run(t, harness(target, client(t, target)))
}

func TestTwoInstancesWithTheirOwnClientsShareSessions(t *testing.T) {
	t.Parallel()
	target := redistest.Shared(t)
	prefix := target.Prefix(t)
	keycardtest.RunShared(t, func(tb testing.TB) store.Store {
		return goredis.New(client(tb, target), redis.Config{Prefix: prefix})
	})
}

// TestStoreOnARedisCluster runs the suites against a go-redis
// ClusterClient on a six-node cluster started for the test.
func TestStoreOnARedisCluster(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t)
	c := client(t, cluster)
	t.Run("conformance suite", func(t *testing.T) {
		storetest.Run(t, harness(cluster, c))
	})
	t.Run("two instances share sessions", func(t *testing.T) {
		prefix := cluster.Prefix(t)
		keycardtest.RunShared(t, func(tb testing.TB) store.Store {
			return goredis.New(client(tb, cluster), redis.Config{Prefix: prefix})
		})
	})
}

// TestSessionsWrittenWithOneClientLibraryReadWithTheOther saves with
// go-redis and reads with rueidis, and back: the two stores share keys,
// values and scripts.
func TestSessionsWrittenWithOneClientLibraryReadWithTheOther(t *testing.T) {
	t.Parallel()
	target := redistest.Shared(t)
	prefix := target.Prefix(t)
	viaGoRedis := goredis.New(client(t, target), redis.Config{Prefix: prefix})
	viaRueidis := redis.New(target.Admin(), redis.Config{Prefix: prefix})
	ctx, now := t.Context(), time.Now()
	key := strings.Repeat("ab", 32)
	rec := &store.Record{UserID: "alice", Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour), Data: []byte("x")}
	if err := viaGoRedis.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	got, err := viaRueidis.Load(ctx, key)
	if err != nil || string(got.Data) != "x" || got.Version != 1 {
		t.Fatalf("rueidis Load: got %+v, %v", got, err)
	}
	got.Data = []byte("y")
	if err := viaRueidis.Save(ctx, key, got); err != nil {
		t.Fatal(err)
	}
	if list, err := viaGoRedis.ListUser(ctx, "alice"); err != nil || len(list) != 1 || string(list[0].Record.Data) != "y" {
		t.Fatalf("go-redis ListUser: got %v, %v", list, err)
	}
	if n, err := viaGoRedis.DeleteUser(ctx, "alice"); n != 1 || err != nil {
		t.Fatalf("go-redis DeleteUser: got %d, %v, want 1, nil", n, err)
	}
}

// TestErrorsNameTheStoreWhenRedisIsUnreachable points a store at a closed
// loopback port.
func TestErrorsNameTheStoreWhenRedisIsUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := goredislib.NewClient(&goredislib.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	s := goredis.New(c, redis.Config{})

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	key, now := strings.Repeat("0", 64), time.Now()
	rec := &store.Record{UserID: "alice", Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	calls := map[string]func() error{
		"load":        func() error { _, err := s.Load(ctx, key); return err },
		"save":        func() error { return s.Save(ctx, key, rec) },
		"delete":      func() error { return s.Delete(ctx, key) },
		"touch":       func() error { return s.Touch(ctx, key, now, now.Add(time.Hour)) },
		"list user":   func() error { _, err := s.ListUser(ctx, "alice"); return err },
		"delete user": func() error { _, err := s.DeleteUser(ctx, "alice"); return err },
	}
	for op, call := range calls {
		err := call()
		switch {
		case err == nil:
			t.Errorf("%s on a closed port: got no error", op)
		case !strings.HasPrefix(err.Error(), "redis store: "+op+": "):
			t.Errorf("%s on a closed port: got %q, want it to start with %q", op, err, "redis store: "+op+": ")
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
			t.Errorf("%s on a closed port: got %v, a sentinel, want a system error", op, err)
		}
	}
}

func BenchmarkStore(b *testing.B) {
	target := redistest.Shared(b)
	storetest.Bench(b, harness(target, client(b, target)))
}
