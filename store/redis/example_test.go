package redis_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/redis"
)

// A Manager whose sessions live in Redis: every instance of the
// application that shares the Redis and the keys sees the same sessions.
func Example() {
	client, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: []string{cmp.Or(os.Getenv("KEYCARD_REDIS_ADDR"), "127.0.0.1:6379")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close() // the application owns the client, not the store

	st := redis.New(client, redis.Config{
		// One prefix per application sharing the Redis (here, per run
		// of this example).
		Prefix: fmt.Sprintf("example-%d:", os.Getpid()),
	})
	m, err := keycard.New(keycard.Config{
		Store: st,
		Keys:  []keycard.Key{keycard.NewKey()}, // in production: the same keys on every instance
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	app := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), "alice"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	for range 2 { // alice logs in on two devices
		w := httptest.NewRecorder()
		app.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	}

	ctx := context.Background()
	devices, err := m.Sessions(ctx, "alice")
	fmt.Println(len(devices), "sessions", err)
	n, err := m.RevokeUser(ctx, "alice") // log out everywhere
	fmt.Println(n, "revoked", err)
	// Output:
	// 2 sessions <nil>
	// 2 revoked <nil>
}
