package guard_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/keycard-go/keycard/guard"
)

// Example shows a guesser refused after Limit wrong passwords from one
// network, while the account's owner, from a network of their own, still
// signs in.
func Example() {
	lim := guard.New(guard.Config{Limit: 3})
	ctx := context.Background()
	login := func(from, password string) string {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = from + ":40000"
		if wait, err := lim.Check(ctx, "alice", r); err != nil || wait > 0 {
			return "429 try again later"
		}
		if password != "correct horse" {
			lim.Fail(ctx, "alice", r)
			return "401 wrong password"
		}
		lim.Succeed(ctx, "alice", r)
		return "200 welcome"
	}
	for range 4 {
		fmt.Println("guesser:", login("203.0.113.9", "123456"))
	}
	fmt.Println("guesser:", login("203.0.113.9", "correct horse"))
	fmt.Println("alice:  ", login("198.51.100.20", "correct horse"))
	// Output:
	// guesser: 401 wrong password
	// guesser: 401 wrong password
	// guesser: 401 wrong password
	// guesser: 429 try again later
	// guesser: 429 try again later
	// alice:   200 welcome
}
