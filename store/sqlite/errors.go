package sqlite

import "errors"

// ErrClosed is returned, wrapped, by every method of a Store called after
// Close.
var ErrClosed = errors.New("store is closed")
