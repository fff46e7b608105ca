package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/internal/redistest"
)

// TestErrorsNameTheStoreWhenRedisIsDown connects to a private server,
// stops it, and checks that every method then fails with an error that
// names the store and the operation, and is no sentinel.
func TestErrorsNameTheStoreWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	// rueidis retries read-only commands (GET, ZRANGE) on network errors
	// until the context ends, unless told not to.
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	s := redis.New(client, redis.Config{})
	srv.Stop()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	key, now := newKey(), time.Now()
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
			t.Errorf("%s with Redis down: got no error", op)
		case !strings.HasPrefix(err.Error(), "redis store: "+op+": "):
			t.Errorf("%s with Redis down: got %q, want it to start with %q", op, err, "redis store: "+op+": ")
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
			t.Errorf("%s with Redis down: got %v, a sentinel, want a system error", op, err)
		}
	}
	if ctx.Err() != nil {
		t.Errorf("the calls took longer than 10s: %v", ctx.Err())
	}
}
