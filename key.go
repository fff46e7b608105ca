package keycard

import (
	"crypto/rand"
	"log/slog"
)

// Key is secret key material for signing session cookies. Keys are at least
// 32 random bytes; generate one with NewKey. A Key formats as "[REDACTED]"
// in fmt and log/slog output, so it cannot be printed by accident.
type Key []byte

// NewKey returns a new random 32-byte key.
func NewKey() Key {
	k := make(Key, 32)
	rand.Read(k)
	return k
}

// String returns "[REDACTED]".
func (Key) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]".
func (Key) GoString() string { return "[REDACTED]" }

// LogValue returns "[REDACTED]".
func (Key) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }
