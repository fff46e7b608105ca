package memory_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

func Example() {
	s := memory.New(memory.Config{MaxSessions: 100_000})
	defer s.Close()

	// The Manager stores sessions under the hex SHA-256 digest of their ID.
	sum := sha256.Sum256([]byte("a session ID"))
	key := hex.EncodeToString(sum[:])

	ctx, now := context.Background(), time.Now()
	err := s.Save(ctx, key, &store.Record{
		UserID:   "alice",
		Created:  now,
		LastSeen: now,
		Expires:  now.Add(30 * time.Minute),
		Deadline: now.Add(24 * time.Hour),
		Data:     []byte("cart=3"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, err := s.Load(ctx, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s, version %d: %s\n", rec.UserID, rec.Version, rec.Data)
	// Output: alice, version 1: cart=3
}

// A save succeeds only if it names the version it loaded, so two requests
// that load the same record cannot both save it.
func Example_conflict() {
	s := memory.New(memory.Config{})
	defer s.Close()
	ctx, now := context.Background(), time.Now()
	key := hex.EncodeToString(make([]byte, 32))
	s.Save(ctx, key, &store.Record{Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)})

	first, _ := s.Load(ctx, key)
	second, _ := s.Load(ctx, key)
	first.Data = []byte("first")
	second.Data = []byte("second")
	fmt.Println(s.Save(ctx, key, first))
	err := s.Save(ctx, key, second)
	fmt.Println(errors.Is(err, store.ErrConflict))
	// Output:
	// <nil>
	// true
}
