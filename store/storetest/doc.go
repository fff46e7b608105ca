// Package storetest is the [store.Store] contract in code: a conformance
// suite and benchmarks that every session store runs.
//
// A backend's test file is a [Harness] plus one call to [Run], and one to
// [Bench] for comparable numbers:
//
//	package memory_test
//
//	import (
//		"testing"
//		"time"
//
//		"github.com/keycard-go/keycard/store"
//		"github.com/keycard-go/keycard/store/memory"
//		"github.com/keycard-go/keycard/store/storetest"
//	)
//
//	var harness = storetest.Harness{
//		New: func(tb testing.TB, now func() time.Time) store.Store {
//			s := memory.New(memory.Config{Now: now})
//			tb.Cleanup(func() { s.Close() })
//			return s
//		},
//	}
//
//	func TestConformance(t *testing.T) { storetest.Run(t, harness) }
//
//	func BenchmarkStore(b *testing.B) { storetest.Bench(b, harness) }
//
// The backend's own tests then cover only what is particular to it.
//
// # What the suite checks
//
// Each subtest is named for one behaviour of the contract, such as "save
// with a stale version conflicts and changes nothing", and runs in parallel
// with the others on its own store and its own [Clock]. The suite covers
// absent keys, every field surviving a round trip, version compare-and-set
// (including after Delete, so a stale writer cannot resurrect a session),
// Touch, expiry exactly at Expires and at Deadline, large values, many keys,
// concurrent read-modify-write loops and racing creates, and cancelled
// contexts. When the store implements [store.UserIndex], [store.Sweeper],
// [store.Scanner], [store.Counter] or [store.Batcher], the suite checks
// those too; otherwise it leaves their subtests out. A SaveBatch that
// reports [store.ErrUnsupported] must have written nothing; the suite
// checks that, then skips the case.
//
// # Time
//
// The suite controls the store's clock: Harness.New receives the clock's
// Now. The clock starts at the real current time, truncated to the
// microsecond, and moves only forward, so a backend with native TTLs
// (Redis) can compute them from now() and still filter logically expired
// records by now(). No subtest sleeps.
//
// Records use microsecond times. A store may keep fewer digits, down to
// milliseconds: Created, LastSeen and AuthTime may come back within 1 ms,
// and Expires and Deadline may come back rounded up by less than 1 ms, never
// down. Subtests that stop the clock exactly at a limit use whole
// milliseconds.
//
// # Real servers
//
// The suite assumes nothing about the store being in-process: it works
// against network servers, needs only that each store made by Harness.New
// starts empty, and tolerates stores that share one server.
package storetest
