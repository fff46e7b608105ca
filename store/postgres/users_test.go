package postgres_test

import (
	"testing"
	"time"

	"github.com/keycard-go/keycard/store/postgres"
	"github.com/keycard-go/keycard/store/storetest"
)

func TestDeleteUserRemovesExpiredRowsButCountsOnlyLiveOnes(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := newStore(t, sharedPool(t), postgres.Config{Now: clock.Now})
	now := clock.Now()
	fill(t, s, 0, 2, "A", now.Add(time.Minute))
	fill(t, s, 2, 3, "A", now.Add(time.Hour))
	fill(t, s, 5, 1, "B", now.Add(time.Hour))
	clock.Advance(2 * time.Minute)

	n, err := s.DeleteUser(t.Context(), "A")
	if err != nil || n != 3 {
		t.Errorf("DeleteUser(A): got %d, %v, want 3 (the live sessions), nil", n, err)
	}
	if got := rows(t, s); got != 1 {
		t.Errorf("got %d rows left, want only B's", got)
	}
}

func TestTheAnonymousUserHasNoSessions(t *testing.T) {
	t.Parallel()
	s := newStore(t, sharedPool(t), postgres.Config{})
	fill(t, s, 0, 3, "", time.Now().Add(time.Hour))
	list, err := s.ListUser(t.Context(), "")
	if err != nil || len(list) != 0 {
		t.Errorf(`ListUser(""): got %d sessions, %v, want none`, len(list), err)
	}
	n, err := s.DeleteUser(t.Context(), "")
	if err != nil || n != 0 {
		t.Errorf(`DeleteUser(""): got %d, %v, want 0, nil`, n, err)
	}
	if got := rows(t, s); got != 3 {
		t.Errorf("got %d rows, want the 3 anonymous sessions kept", got)
	}
}
