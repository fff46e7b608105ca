package metriclabels

import (
	"errors"

	"github.com/keycard-go/keycard/store"
)

// Values of the store operation label: one per method of store.Store and
// of its optional capabilities.
const (
	OpLoad       = "load"
	OpSave       = "save"
	OpDelete     = "delete"
	OpTouch      = "touch"
	OpListUser   = "list_user"   // store.UserIndex
	OpDeleteUser = "delete_user" // store.UserIndex
	OpSweep      = "sweep"       // store.Sweeper
	OpScan       = "scan"        // store.Scanner
)

// Values of the store result label.
const (
	ResultOK       = "ok"
	ResultNotFound = "not_found" // store.ErrNotFound: an absent or expired record
	ResultConflict = "conflict"  // store.ErrConflict: a compare-and-set save lost
	ResultError    = "error"     // any other error: the store failed
)

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
	default:
		return ResultError
	}
}
