package store

import "errors"

var (
	// ErrNotFound is returned by Store.Load and Store.Touch when no live
	// record exists under the key.
	ErrNotFound = errors.New("store: record not found")

	// ErrConflict is returned by Store.Save when the stored version is not
	// the expected one: another request saved or deleted the record first.
	ErrConflict = errors.New("store: version conflict")

	// ErrUnsupported is returned, wrapped, when an operation needs a
	// capability (such as UserIndex) that the store does not have.
	ErrUnsupported = errors.New("store: operation not supported")

	// ErrCorrupt is returned by DecodeRecord when stored bytes are not a
	// valid record.
	ErrCorrupt = errors.New("store: corrupt record")

	// ErrFull is returned, wrapped with the store's name, by Store.Save
	// when a bounded store refuses to create a record rather than evict
	// one it must keep: the memory store refuses a new anonymous record
	// (no UserID) when signed-in records fill it.
	ErrFull = errors.New("store: full")

	// ErrClosed is returned, wrapped with the store's name, by every
	// method of a store that has a Close method, once it has been closed.
	ErrClosed = errors.New("store: closed")
)
