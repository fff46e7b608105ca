package guard_test

import (
	"context"
	"fmt"
	"time"

	"github.com/keycard-go/keycard/guard"
)

func Example() {
	lim := guard.New(guard.Config{Limit: 2, Window: time.Minute})
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if wait, _ := lim.Check(ctx, "user:alice"); wait > 0 {
			fmt.Printf("attempt %d: locked out\n", i)
			continue
		}
		lim.Fail(ctx, "user:alice", nil) // the password was wrong
		fmt.Printf("attempt %d: wrong password\n", i)
	}
	// Output:
	// attempt 1: wrong password
	// attempt 2: wrong password
	// attempt 3: locked out
}
