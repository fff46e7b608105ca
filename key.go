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

// DeriveKeys returns keys for purpose derived from Config.Keys, newest
// first, for code built on a Manager that needs a server secret shared by
// every instance and rotated with the session keys: anti-forgery tokens,
// keyed hashes of names. Sign or hash with the first; accept any. Each
// purpose gets keys unrelated to every other purpose's and to the keys
// that sign session IDs, and nothing derived reveals Config.Keys. Without
// Config.Keys the keys are random per process, like the session keys.
func (m *Manager) DeriveKeys(purpose string) []Key {
	raw := m.derived.Derive(purpose)
	keys := make([]Key, len(raw))
	for i, k := range raw {
		keys[i] = k
	}
	return keys
}
