package storetest

import (
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

// Harness makes stores for the suite.
type Harness struct {
	// New returns a new, empty store whose current time is given by now.
	// Records saved in other stores made by New must not be visible in it:
	// a backend that shares one server between calls may use a unique key
	// prefix or table per call. New registers any cleanup, such as closing
	// the store or dropping its table, with tb.Cleanup, and reports setup
	// failures with tb.Fatal. tb is the subtest's *testing.T under Run
	// (which calls New from parallel subtests) and the sub-benchmark's
	// *testing.B under Bench.
	//
	// The clock behind now starts at the real current time, truncated to
	// the microsecond, and only moves forward, so a backend with native
	// TTLs may compute them from now() as long as it also treats records
	// that now() says are expired as absent.
	New func(tb testing.TB, now func() time.Time) store.Store
}

// capability is an optional interface a case needs; Run leaves the case
// out for stores without it.
type capability int

const (
	basic capability = iota
	userIndex
	sweeper
	scanner
	counter
	batcher
	recordLoader
)

// String names the interface a capability stands for.
func (c capability) String() string {
	switch c {
	case userIndex:
		return "store.UserIndex"
	case sweeper:
		return "store.Sweeper"
	case scanner:
		return "store.Scanner"
	case counter:
		return "store.Counter"
	case batcher:
		return "store.Batcher"
	case recordLoader:
		return "store.RecordLoader"
	}
	return "store.Store"
}

// testCase is one behaviour of the contract, named as a sentence.
type testCase struct {
	name  string
	needs capability
	run   func(f *fixture)
}

// cases lists every behaviour the suite checks, in the order Run starts them.
var cases = []testCase{
	{"load of an absent key reports ErrNotFound", basic, testLoadAbsent},
	{"touch of an absent key reports ErrNotFound and creates nothing", basic, testTouchAbsent},
	{"delete of an absent key succeeds", basic, testDeleteAbsent},

	{"save with version 0 creates a record that loads with every field and version 1", basic, testCreateRoundTrip},
	{"save with version 0 on an existing record conflicts and changes nothing", basic, testCreateExisting},
	{"save with the current version replaces the record and bumps the version", basic, testUpdate},
	{"save with a stale version conflicts and changes nothing", basic, testUpdateStale},
	{"save with a future version conflicts and changes nothing", basic, testUpdateFuture},
	{"save with a non-zero version on an absent key conflicts and creates nothing", basic, testUpdateAbsent},
	{"save does not modify the record passed in", basic, testSaveKeepsArgument},
	{"save does not retain the record or its data slice", basic, testSaveCopiesData},
	{"load returns a copy that does not alias the store", basic, testLoadCopies},

	{"delete makes the record absent", basic, testDelete},
	{"save with the old version after delete conflicts", basic, testDeleteThenStaleSave},
	{"save with version 0 after delete creates the record again", basic, testDeleteThenCreate},

	{"touch changes only last seen and expires", basic, testTouchFields},
	{"touch does not bump the version", basic, testTouchKeepsVersion},
	{"touch before expiry keeps the record alive past the old expiry", basic, testTouchExtends},

	{"a record expires exactly at its idle expiry", basic, testExpiresAtExpires},
	{"a record expires exactly at its absolute deadline even when expires is later", basic, testExpiresAtDeadline},
	{"touch cannot keep a record alive past its absolute deadline", basic, testTouchPastDeadline},
	{"an expired record counts as absent for save", basic, testSaveOverExpired},

	{"a 1 MiB value round-trips", basic, testLargeValue},
	{"many keys are independent", basic, testManyKeys},

	{"concurrent read-modify-write loops lose no update", basic, testConcurrentIncrements},
	{"concurrent creates of one key let exactly one succeed", basic, testConcurrentCreates},
	{"concurrent touch, save and load of one key keep the record whole", basic, testConcurrentMixed},

	{"a cancelled context makes every method fail", basic, testCancelledContext},

	{"list user returns exactly the user's live sessions", userIndex, testListUser},
	{"list user of an unknown user is empty", userIndex, testListUnknownUser},
	{"saving a record with another user moves it between users", userIndex, testListMovesUser},
	{"a record saved as anonymous leaves its user's list", userIndex, testListAnonymous},
	{"delete removes a record from its user's list", userIndex, testListAfterDelete},
	{"an expired record is not listed", userIndex, testListSkipsExpired},
	{"delete user deletes only that user's sessions and counts them", userIndex, testDeleteUser},
	{"user lists stay consistent under concurrent saves and deletes", userIndex, testListConcurrent},

	{"sweep deletes expired records and keeps live ones", sweeper, testSweep},

	{"scan visits every live record once and skips expired ones", scanner, testScan},
	{"scan stops at the first error its function returns", scanner, testScanStops},

	{"count anonymous counts the live records without a user", counter, testCountAnonymous},

	{"save batch writes a new record and an update together, each with its next version", batcher, testBatchWrites},
	{"save batch with one stale version conflicts and changes nothing", batcher, testBatchStale},
	{"save batch does not modify or retain the records passed in", batcher, testBatchKeepsArguments},
	{"save batch that renews a session moves it in its user's list", batcher, testBatchRenewal},

	{"load record replaces every field of the record it loads into, as Load returns it", recordLoader, testLoadRecordMatchesLoad},
	{"load record of an absent or expired record reports ErrNotFound and leaves the record as it was", recordLoader, testLoadRecordAbsent},
	{"load record's Data is the caller's own", recordLoader, testLoadRecordDataIsOwn},
}

// Run runs the conformance suite against stores made by h, one parallel
// subtest per behaviour of the [store.Store] contract, each with a new store
// and its own [Clock]. Cases for [store.UserIndex], [store.Sweeper],
// [store.Scanner], [store.Counter], [store.Batcher] and
// [store.RecordLoader] run when the store implements them; otherwise they
// are left out, not skipped, and one log line says which capabilities the
// store lacks, so that a skip in a
// store's run always means something. A [store.Batcher] case whose
// SaveBatch reports [store.ErrUnsupported] (a Redis Cluster) checks that
// the batch wrote nothing, then skips.
//
// A backend's test calls Run once, from a test that sets up whatever server
// the backend needs.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("storetest: Harness.New is nil")
	}
	probe := newFixture(t, h)
	lacks := map[capability]int{}
	for _, c := range cases {
		if !probe.has(c.needs) {
			lacks[c.needs]++
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, h)
			f.require(c.needs)
			c.run(f)
		})
	}
	for c, n := range lacks {
		t.Logf("storetest: %T does not implement %s: its %d cases are left out", probe.s, c, n)
	}
}
