package storetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/storetest"
)

// A backend's conformance test is a harness and one call. The harness gives
// each subtest a new store on the suite's clock and closes it afterwards; a
// backend on a shared server would also pick a unique table or key prefix.
func ExampleRun() {
	harness := storetest.Harness{
		New: func(tb testing.TB, now func() time.Time) store.Store {
			s := memory.New(memory.Config{Now: now})
			tb.Cleanup(func() { s.Close() })
			return s
		},
	}

	// In the backend's _test.go file:
	//
	//	func TestConformance(t *testing.T) { storetest.Run(t, harness) }
	//	func BenchmarkStore(b *testing.B)  { storetest.Bench(b, harness) }
	_ = harness
}

// A Clock stands still until advanced, so a test can stop a store's time
// exactly at a record's expiry.
func ExampleClock() {
	clock := storetest.NewClock(time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC))
	s := memory.New(memory.Config{Now: clock.Now})
	defer s.Close()
	ctx, key := context.Background(), "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

	expires := clock.Now().Add(10 * time.Minute)
	s.Save(ctx, key, &store.Record{Expires: expires, Deadline: expires.Add(time.Hour)})

	clock.Advance(10*time.Minute - time.Microsecond)
	_, err := s.Load(ctx, key)
	fmt.Println(clock.Now().Format(time.TimeOnly), err)

	clock.Advance(time.Microsecond)
	_, err = s.Load(ctx, key)
	fmt.Println(clock.Now().Format(time.TimeOnly), err)
	// Output:
	// 15:14:04 <nil>
	// 15:14:05 store: record not found
}
