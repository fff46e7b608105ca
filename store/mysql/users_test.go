package mysql_test

import (
	"testing"
	"time"

	"github.com/keycard-go/keycard/store/mysql"
	"github.com/keycard-go/keycard/store/storetest"
)

func TestDeleteUserRemovesExpiredRowsButCountsOnlyLiveOnes(t *testing.T) {
	t.Parallel()
	db := sharedDB(t)
	clock := storetest.NewClock(time.Now())
	s := newStore(t, db, mysql.Config{Now: clock.Now})
	ctx, now := t.Context(), clock.Now()
	for i, expires := range []time.Duration{time.Minute, time.Hour, time.Hour} {
		if err := s.Save(ctx, testKey(i), liveRecord("A", now.Add(expires))); err != nil {
			t.Fatalf("Save: got error %v, want nil", err)
		}
	}
	if err := s.Save(ctx, testKey(3), liveRecord("B", now.Add(time.Minute))); err != nil {
		t.Fatalf("Save: got error %v, want nil", err)
	}
	clock.Advance(2 * time.Minute)
	if n, err := s.DeleteUser(ctx, "A"); err != nil || n != 2 {
		t.Errorf("DeleteUser: got %d, %v, want 2 (the live sessions), nil", n, err)
	}
	if got := countRows(t, s, db); got != 1 {
		t.Errorf("after DeleteUser: got %d rows, want only B's", got)
	}
}

func TestTheAnonymousUserHasNoSessions(t *testing.T) {
	t.Parallel()
	s := newStore(t, sharedDB(t), mysql.Config{})
	ctx := t.Context()
	if err := s.Save(ctx, testKey(1), liveRecord("", time.Now().Add(time.Hour))); err != nil {
		t.Fatalf("Save: got error %v, want nil", err)
	}
	if list, err := s.ListUser(ctx, ""); err != nil || len(list) != 0 {
		t.Errorf(`ListUser(""): got %d sessions, %v, want none`, len(list), err)
	}
	if n, err := s.DeleteUser(ctx, ""); err != nil || n != 0 {
		t.Errorf(`DeleteUser(""): got %d, %v, want 0, nil`, n, err)
	}
	if _, err := s.Load(ctx, testKey(1)); err != nil {
		t.Errorf(`Load after DeleteUser(""): got error %v, want the anonymous session kept`, err)
	}
}
