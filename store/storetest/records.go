package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

// tolerance is how far a stored time may be from the one saved: stores may
// keep as few as millisecond digits.
const tolerance = time.Millisecond

// newRecord returns a record with every field set. Its times are at
// microsecond precision and, except LastSeen, off any millisecond boundary,
// so a store that rounds Expires or Deadline down is caught.
func newRecord(now time.Time) *store.Record {
	return &store.Record{
		UserID:     "user-42",
		Created:    now.Add(-2*time.Hour + 17*time.Microsecond),
		LastSeen:   now,
		AuthTime:   now.Add(-time.Hour + 5*time.Microsecond),
		Expires:    now.Add(30*time.Minute + 123*time.Microsecond),
		Deadline:   now.Add(8*time.Hour + 456*time.Microsecond),
		Persistent: true,
		IP:         "203.0.113.7",
		UserAgent:  "Mozilla/5.0 (X11; Linux x86_64) storetest/1.0",
		Data:       []byte("\x00\x01session data\x00\xff"),
	}
}

// checkRecord reports every field of got that differs from want. Created,
// LastSeen and AuthTime may differ by less than the tolerance; Expires and
// Deadline may only be rounded up, by less than the tolerance.
func checkRecord(t testing.TB, what string, got, want *store.Record) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil record, want one", what)
		return
	}
	if got.Version != want.Version {
		t.Errorf("%s: got Version %d, want %d", what, got.Version, want.Version)
	}
	checkString(t, what, "UserID", got.UserID, want.UserID)
	checkString(t, what, "IP", got.IP, want.IP)
	checkString(t, what, "UserAgent", got.UserAgent, want.UserAgent)
	if got.Persistent != want.Persistent {
		t.Errorf("%s: got Persistent %t, want %t", what, got.Persistent, want.Persistent)
	}
	checkTime(t, what, "Created", got.Created, want.Created)
	checkTime(t, what, "LastSeen", got.LastSeen, want.LastSeen)
	checkTime(t, what, "AuthTime", got.AuthTime, want.AuthTime)
	checkLimit(t, what, "Expires", got.Expires, want.Expires)
	checkLimit(t, what, "Deadline", got.Deadline, want.Deadline)
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("%s: got Data %s, want %s", what, describe(got.Data), describe(want.Data))
	}
}

func checkString(t testing.TB, what, field, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %s %q, want %q", what, field, got, want)
	}
}

// checkTime reports got unless it is zero exactly when want is, and within
// the tolerance of it.
func checkTime(t testing.TB, what, field string, got, want time.Time) {
	t.Helper()
	if got.IsZero() != want.IsZero() || got.Sub(want).Abs() >= tolerance {
		t.Errorf("%s: got %s %v, want %v (±%v)", what, field, got, want, tolerance)
	}
}

// checkLimit reports got unless it is want rounded up by less than the
// tolerance: a stored limit may never be earlier than the one saved.
func checkLimit(t testing.TB, what, field string, got, want time.Time) {
	t.Helper()
	if got.Before(want) || !got.Before(want.Add(tolerance)) {
		t.Errorf("%s: got %s %v, want %v (or later by less than %v)", what, field, got, want, tolerance)
	}
}

// describe prints data briefly: in full when short, by length and digest
// when long.
func describe(data []byte) string {
	if len(data) <= 64 {
		return fmt.Sprintf("%q", data)
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("(%d bytes, sha256 %x…)", len(data), sum[:8])
}
