package sqlite

import "github.com/keycard-go/keycard/store"

// ErrClosed is returned, wrapped, by every method of a Store called after
// Close. It is [store.ErrClosed], which every store that can be closed
// reports.
var ErrClosed = store.ErrClosed
