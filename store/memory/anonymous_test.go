package memory

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/storetest"
)

var discard = slog.New(slog.DiscardHandler)

// rec returns a record of user that expires in d.
func recFor(user string, now time.Time, d time.Duration) *store.Record {
	return &store.Record{UserID: user, Expires: now.Add(d), Deadline: now.Add(24 * time.Hour)}
}

// A flood of anonymous sessions evicts only anonymous sessions, even the
// signed-in session that expires soonest survives it.
func TestAnonymousFloodNeverEvictsSignedIn(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Now())
	var log bytes.Buffer
	s := New(Config{MaxSessions: 100, MaxAnonymous: 20, Now: clock.Now, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	now := clock.Now()
	for i := range 50 {
		// Signed-in users idle long: they expire before any visitor.
		if err := s.Save(ctx, fmt.Sprint("user-", i), recFor(fmt.Sprint("u", i), now, time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10_000 {
		if err := s.Save(ctx, fmt.Sprint("visitor-", i), recFor("", now, time.Hour)); err != nil {
			t.Fatalf("visitor %d: %v", i, err)
		}
	}
	for i := range 50 {
		if _, err := s.Load(ctx, fmt.Sprint("user-", i)); err != nil {
			t.Fatalf("signed-in session %d after the flood: %v", i, err)
		}
	}
	if n := s.Len(); n != 70 {
		t.Errorf("got %d records, want 50 signed-in + 20 anonymous", n)
	}
	if n := s.Evictions(); n != 10_000-20 {
		t.Errorf("got %d evictions, want %d", n, 10_000-20)
	}
	// The last visitors are kept: eviction takes the soonest-expiring.
	if _, err := s.Load(ctx, "visitor-9999"); err != nil {
		t.Errorf("the newest visitor: %v", err)
	}
	if lines := strings.Count(log.String(), "evicted anonymous"); lines != 1 {
		t.Errorf("got %d eviction warnings for one burst, want 1 (flood budget):\n%s", lines, log.String())
	}
	checkInvariants(t, s)
}

// When signed-in sessions fill the store, a new anonymous session is
// refused with ErrFull rather than evicting one of them; a new signed-in
// session still gets in, evicting the signed-in session due soonest.
func TestFullOfSignedInRefusesAnonymous(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Now())
	s := New(Config{MaxSessions: 10, Now: clock.Now, Logger: discard})
	now := clock.Now()
	for i := range 10 {
		if err := s.Save(ctx, fmt.Sprint("user-", i), recFor("u", now, time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Save(ctx, "visitor", recFor("", now, time.Hour))
	if !errors.Is(err, store.ErrFull) {
		t.Fatalf("anonymous save in a store full of signed-in sessions: got %v, want ErrFull", err)
	}
	if s.Refusals() != 1 || s.Evictions() != 0 {
		t.Errorf("got %d refusals, %d evictions, want 1, 0", s.Refusals(), s.Evictions())
	}
	if err := s.Save(ctx, "user-new", recFor("u", now, time.Hour)); err != nil {
		t.Fatalf("signed-in save in a full store: %v", err)
	}
	if _, err := s.Load(ctx, "user-0"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the signed-in session due soonest: got %v, want it evicted", err)
	}
	// Once one expires, a visitor fits again.
	clock.Advance(150 * time.Second)
	if err := s.Save(ctx, "visitor", recFor("", clock.Now(), time.Hour)); err != nil {
		t.Errorf("anonymous save after a signed-in session expired: %v", err)
	}
	checkInvariants(t, s)
}

// A login or logout that saves a record in place moves it between the
// anonymous and signed-in accounts.
func TestLoginInPlaceMovesTheRecordOutOfTheAnonymousBound(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := storetest.NewClock(time.Now())
	s := New(Config{MaxSessions: 10, MaxAnonymous: 1, Now: clock.Now, Logger: discard})
	now := clock.Now()
	if err := s.Save(ctx, "a", recFor("", now, time.Hour)); err != nil {
		t.Fatal(err)
	}
	signed := recFor("alice", now, time.Hour)
	signed.Version = 1
	if err := s.Save(ctx, "a", signed); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "b", recFor("", now, time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "a"); err != nil || s.Evictions() != 0 {
		t.Errorf("the signed-in record: %v, %d evictions; want it kept, none", err, s.Evictions())
	}
	checkInvariants(t, s)
}
