package metriclabels

import (
	"errors"

	"github.com/keycard-go/keycard/store"
)

// Values of the store operation label: one per method of store.Store and
// of its optional capabilities, the method's name in snake case.
const (
	OpLoad           = "load"
	OpSave           = "save"
	OpDelete         = "delete"
	OpTouch          = "touch"
	OpListUser       = "list_user"       // store.UserIndex
	OpDeleteUser     = "delete_user"     // store.UserIndex
	OpSweep          = "sweep"           // store.Sweeper
	OpScan           = "scan"            // store.Scanner
	OpCountAnonymous = "count_anonymous" // store.Counter
	OpSaveBatch      = "save_batch"      // store.Batcher
)

// ops are the operation label values, in the order of the constants.
var ops = []string{OpLoad, OpSave, OpDelete, OpTouch, OpListUser, OpDeleteUser,
	OpSweep, OpScan, OpCountAnonymous, OpSaveBatch}

// Ops returns every store operation label value, for a metrics module to
// make its series or attribute sets from: a value outside it is never
// recorded.
func Ops() []string {
	return append([]string(nil), ops...)
}

// Values of the store result label.
const (
	ResultOK       = "ok"
	ResultNotFound = "not_found" // store.ErrNotFound: an absent or expired record
	ResultConflict = "conflict"  // store.ErrConflict: a compare-and-set save lost
	// ResultUnsupported is store.ErrUnsupported: the store cannot run
	// the call in its configuration (SaveBatch on Redis Cluster) and
	// wrote nothing, so the caller takes another way. It is no failure:
	// an alert on ResultError must not fire for it.
	ResultUnsupported = "unsupported"
	ResultError       = "error" // any other error: the store failed
)

// results are the result label values, in the order of the constants.
var results = []string{ResultOK, ResultNotFound, ResultConflict, ResultUnsupported, ResultError}

// Results returns every store result label value.
func Results() []string {
	return append([]string(nil), results...)
}

// ResultOf returns the result label value of a store call that returned
// err.
func ResultOf(err error) string {
	switch {
	case err == nil:
		return ResultOK
	case errors.Is(err, store.ErrNotFound):
		return ResultNotFound
	case errors.Is(err, store.ErrConflict):
		return ResultConflict
	case errors.Is(err, store.ErrUnsupported):
		return ResultUnsupported
	default:
		return ResultError
	}
}
