package keycard

import (
	"errors"

	"github.com/keycard-go/keycard/store"
)

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

	// ErrConflict is returned, wrapped, when a save still conflicts with
	// concurrent writers after the bounded number of retries.
	ErrConflict = store.ErrConflict

	// ErrUnsupported is returned, wrapped, by Manager methods that need a
	// store capability (such as store.UserIndex) the store lacks.
	ErrUnsupported = store.ErrUnsupported
)
