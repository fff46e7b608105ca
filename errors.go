package keycard

import (
	"errors"
)

// Errors a caller may branch on. Conflicts that outlast the retries, and
// calls that need a store capability the store lacks, wrap the store
// package's sentinels, store.ErrConflict and store.ErrUnsupported.
var (
	// ErrTooLarge is returned by Session.Put when the value would take the
	// session past Config.MaxSize.
	ErrTooLarge = errors.New("keycard: session too large")

	// ErrResponseStarted is returned by Session methods that change the
	// session after the response header was sent: the cookie can no longer
	// be set, so the change would be lost.
	ErrResponseStarted = errors.New("keycard: response already started")

	// ErrSessionGone is returned by Update when the session was destroyed
	// (by logout, revocation or expiry) while the update was in progress.
	ErrSessionGone = errors.New("keycard: session no longer exists")
)
