package main

import (
	"context"
	"testing"
	"time"

	"github.com/keycard-go/keycard/cmd/keycard/internal/storeurl"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// seeded returns a memory store holding: alice (remembered), alice, bob,
// an anonymous session, and an expired one.
func seeded(t *testing.T, now time.Time) *memory.Store {
	st := memory.New(memory.Config{})
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	for i, r := range []store.Record{
		{UserID: "alice", Persistent: true},
		{UserID: "alice"},
		{UserID: "bob"},
		{},
		{UserID: "carol", Expires: now.Add(20 * time.Millisecond)},
	} {
		r.Created, r.LastSeen = now, now.Add(time.Duration(i)*time.Second)
		if r.Expires.IsZero() {
			r.Expires = now.Add(time.Hour)
		}
		r.Deadline = now.Add(8 * time.Hour)
		key := string(rune('a'+i)) + "000000000000000000000000000000000000000000000000000000000000000"
		if err := st.Save(ctx, key, &r); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestCountSessions(t *testing.T) {
	now := time.Now()
	st := seeded(t, now)
	got, err := countSessions(context.Background(), st, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := stats{Live: 4, SignedIn: 3, Anonymous: 1, Remembered: 1, Users: 2}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestListSessions(t *testing.T) {
	now := time.Now()
	st := seeded(t, now)
	time.Sleep(30 * time.Millisecond) // carol's session expires
	u, _ := storeurl.Parse("memory:")
	h := &storeurl.Handle{Store: st, URL: u}
	ctx := context.Background()
	all, err := listSessions(ctx, h, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Errorf("all sessions: got %d, want 4", len(all))
	}
	alice, err := listSessions(ctx, h, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(alice) != 2 {
		t.Errorf("alice's sessions: got %d, want 2", len(alice))
	}
	for _, r := range alice {
		if r.User != "alice" || len(r.Hash) != 64 {
			t.Errorf("row %+v", r)
		}
	}
}
