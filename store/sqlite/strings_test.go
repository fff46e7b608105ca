package sqlite_test

import (
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
)

// TestStringsRoundTripByteForByte checks what the suite does not: strings
// that are not valid UTF-8 or hold NUL bytes, which SQLite's TEXT could
// mangle, come back as they were saved.
func TestStringsRoundTripByteForByte(t *testing.T) {
	t.Parallel()
	s := openStore(t, sqlite.Config{})
	now := time.Now()
	for _, odd := range []string{"a\x00b", "\xff\xfe", "nul at the end\x00", "\x00", "é\x80"} {
		key := newKey()
		rec := &store.Record{UserID: odd, IP: odd, UserAgent: odd, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
		if err := s.Save(t.Context(), key, rec); err != nil {
			t.Fatalf("Save(%q): %v", odd, err)
		}
		got, err := s.Load(t.Context(), key)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got.UserID != odd || got.IP != odd || got.UserAgent != odd {
			t.Errorf("saved %q, got UserID %q, IP %q, UserAgent %q", odd, got.UserID, got.IP, got.UserAgent)
		}
		list, err := s.ListUser(t.Context(), odd)
		if err != nil || len(list) != 1 || list[0].Key != key {
			t.Errorf("ListUser(%q): got %d entries, %v, want the one session", odd, len(list), err)
		}
	}
}
