package goredis_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"time"

	goredislib "github.com/redis/go-redis/v9"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/goredis"
)

// An application that already holds a go-redis client gives it to the
// store, which never closes it.
func Example() {
	rdb := goredislib.NewClient(&goredislib.Options{Addr: cmp.Or(os.Getenv("KEYCARD_REDIS_ADDR"), "127.0.0.1:6379")})
	defer rdb.Close()

	st := goredis.New(rdb, redis.Config{Prefix: fmt.Sprintf("example-%d:", os.Getpid())})
	if _, err := keycard.New(keycard.Config{Store: st, Keys: []keycard.Key{keycard.NewKey()}}); err != nil {
		fmt.Println(err)
		return
	}

	// The Manager calls the store; here it is called directly.
	ctx, now := context.Background(), time.Now()
	key := "6b6579" + fmt.Sprintf("%058d", 0)
	err := st.Save(ctx, key, &store.Record{UserID: "alice", Expires: now.Add(time.Hour), Deadline: now.Add(8 * time.Hour)})
	fmt.Println("saved:", err)
	rec, err := st.Load(ctx, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.UserID, "version", rec.Version)
	fmt.Println("deleted:", st.Delete(ctx, key))
	// Output:
	// saved: <nil>
	// alice version 1
	// deleted: <nil>
}
