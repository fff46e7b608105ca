package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/internal/redistest"
)

// TestMemoryPerSession stores 10,000 sessions, each with 200 bytes of
// data, a 110-byte user agent and a user of its own (so each also has a
// user index of its own, the costliest case), on a private server, and
// reports the bytes they take: MEMORY USAGE of every key, and the growth
// of the server's used_memory. The package doc quotes these numbers.
func TestMemoryPerSession(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 10,000 sessions")
	}
	t.Parallel()
	const n = 10_000
	srv := redistest.StartServer(t)
	client := redistest.Client(t, []string{srv.Addr})
	st := redis.New(client, redis.Config{})
	ctx := t.Context()
	before := usedMemory(t, srv.Addr)

	now := time.Now()
	keys := make([]string, n)
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				keys[i] = newKey()
				rec := &store.Record{
					UserID: fmt.Sprintf("user-%06d", i), Created: now, LastSeen: now, AuthTime: now,
					Expires: now.Add(30 * time.Minute), Deadline: now.Add(8 * time.Hour),
					IP: "203.0.113.7", UserAgent: strings.Repeat("u", 110), Data: []byte(strings.Repeat("d", 200)),
				}
				if err := st.Save(ctx, keys[i], rec); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	used := usedMemory(t, srv.Addr) - before

	records := memoryUsage(t, ctx, client, "keycard:s:*")
	indexes := memoryUsage(t, ctx, client, "keycard:u:*")
	t.Logf("%d sessions: records %d B/session (MEMORY USAGE), user indexes %d B/session, used_memory grew %d B/session",
		n, records/n, indexes/n, used/n)
	if per := (records + indexes) / n; per > 1500 {
		t.Errorf("got %d bytes per session, want at most 1500", per)
	}
}

func usedMemory(t *testing.T, addr string) int {
	t.Helper()
	info, err := redistest.Command(addr, "INFO", "memory")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatal("INFO memory has no used_memory")
	return 0
}

// memoryUsage sums MEMORY USAGE (exact, SAMPLES 0) over the keys matching
// pattern.
func memoryUsage(t *testing.T, ctx context.Context, c rueidis.Client, pattern string) int {
	t.Helper()
	var cursor uint64
	var cmds rueidis.Commands
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range e.Elements {
			cmds = append(cmds, c.B().MemoryUsage().Key(k).Samples(0).Build())
		}
		if cursor = e.Cursor; cursor == 0 {
			break
		}
	}
	total := 0
	for _, r := range c.DoMulti(ctx, cmds...) {
		v, err := r.AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		total += int(v)
	}
	return total
}
