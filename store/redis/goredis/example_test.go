package goredis_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	goredislib "github.com/redis/go-redis/v9"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/goredis"
)

// An application that already holds a go-redis client gives it to the
// store, which never closes it.
func Example() {
	rdb := goredislib.NewClient(&goredislib.Options{Addr: cmp.Or(os.Getenv("KEYCARD_REDIS_ADDR"), "127.0.0.1:6379")})
	defer rdb.Close()

	m, err := keycard.New(keycard.Config{
		Store: goredis.New(rdb, redis.Config{Prefix: fmt.Sprintf("example-%d:", os.Getpid())}),
		Keys:  []keycard.Key{keycard.NewKey()}, // in production: the same keys on every instance
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	app := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), "bob"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil))

	ctx := context.Background()
	devices, err := m.Sessions(ctx, "bob")
	fmt.Println(len(devices), "session", err)
	n, err := m.RevokeUser(ctx, "bob")
	fmt.Println(n, "revoked", err)
	// Output:
	// 1 session <nil>
	// 1 revoked <nil>
}
