package mongodb_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/mongodb"
	"github.com/keycard-go/keycard/store/storetest"
)

func TestNewRefusesABadConfig(t *testing.T) {
	t.Parallel()
	db := (&mongo.Client{}).Database("app")
	for _, cfg := range []mongodb.Config{{Collection: "1sessions"}, {Collection: "a.b"}, {Collection: "a-b"}, {Collection: strings.Repeat("s", 65)}, {SweepBatch: -1}} {
		if _, err := mongodb.New(db, cfg); err == nil || !strings.HasPrefix(err.Error(), "mongodb store: ") {
			t.Errorf("New(%+v): got %v, want an error starting with the store's name", cfg, err)
		}
	}
	if _, err := mongodb.New(db, mongodb.Config{Collection: "1x"}); err == nil || !strings.Contains(err.Error(), "Config.Collection") {
		t.Errorf("got %v, want it to name Config.Collection", err)
	}
	if _, err := mongodb.New(nil, mongodb.Config{}); err == nil {
		t.Error("New(nil) succeeded")
	}
	s, err := mongodb.New(db, mongodb.Config{})
	if err != nil || s.Collection().Name() != mongodb.DefaultCollection {
		t.Errorf("zero Config: got %v, collection %q, want %q", err, s.Collection().Name(), mongodb.DefaultCollection)
	}
}

// isFerretDB reports whether the test server is FerretDB.
func isFerretDB(t *testing.T, client *mongo.Client) bool {
	var info bson.M
	if err := client.Database("admin").RunCommand(t.Context(), bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatal(err)
	}
	_, ok := info["ferretdbVersion"]
	return ok
}

func TestMigrateIsIdempotentAndCreatesTheIndexes(t *testing.T) {
	t.Parallel()
	client := sharedClient(t)
	s := newStore(t, client, mongodb.Config{}) // migrated once
	ttl, err := s.Migrate(t.Context())
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if want := !isFerretDB(t, client); ttl != want {
		t.Errorf("Migrate reports a TTL index: %v, want %v", ttl, want)
	}
	specs, err := s.Collection().Indexes().ListSpecifications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, spec := range specs {
		names = append(names, spec.Name)
		if spec.Name == mongodb.IndexExpiry && (spec.ExpireAfterSeconds != nil) != ttl {
			t.Errorf("index %s has expireAfterSeconds %v, want a TTL index: %v", spec.Name, spec.ExpireAfterSeconds, ttl)
		}
	}
	for _, want := range []string{mongodb.IndexUser, mongodb.IndexExpiry} {
		if !slices.Contains(names, want) {
			t.Errorf("indexes %q lack %q", names, want)
		}
	}
}

// commands counts the commands a client sends, by name.
type commands struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *commands) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// countingClient returns a client of its own whose commands c counts.
func countingClient(t *testing.T, c *commands) *mongo.Client {
	sharedClient(t)
	c.n = map[string]int{}
	monitor := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		c.mu.Lock()
		c.n[e.CommandName]++
		c.mu.Unlock()
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(serverURL()).SetMonitor(monitor))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	return client
}

// TestWritesAreOneCommandOnMongoDB checks, with the commands the driver
// sends, that each method is one command in the store's MongoDB mode,
// and that in that mode compare-and-set refuses what it must. The test
// server may be FerretDB, whose updates are not atomic under concurrent
// writers: this test has none.
func TestWritesAreOneCommandOnMongoDB(t *testing.T) {
	t.Parallel()
	var c commands
	client := countingClient(t, &c)
	clock := storetest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	s := newStore(t, client, mongodb.Config{Now: clock.Now})
	mongodb.ForceAtomic(s)
	ctx := t.Context()
	now := clock.Now()
	rec := &store.Record{UserID: "alice", Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(8 * time.Hour), Data: []byte("v1")}
	key := strings.Repeat("ab", 32)
	c.take()
	step := func(what string, err, want error, command string) {
		t.Helper()
		if !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("%s: got %v, want %v", what, err, want)
		}
		if got := c.take(); len(got) != 1 || got[command] != 1 {
			t.Errorf("%s: sent %v, want one %s", what, got, command)
		}
	}
	step("create", s.Save(ctx, key, rec), nil, "update")
	step("create over a live record", s.Save(ctx, key, rec), store.ErrConflict, "update")
	rec.Version = 1
	step("update", s.Save(ctx, key, rec), nil, "update")
	step("stale update", s.Save(ctx, key, rec), store.ErrConflict, "update")
	rec.Version = 7
	step("future update", s.Save(ctx, key, rec), store.ErrConflict, "update")
	_, err := s.Load(ctx, key)
	step("load", err, nil, "find")
	step("touch", s.Touch(ctx, key, now, now.Add(2*time.Hour)), nil, "update")
	_, err = s.ListUser(ctx, "alice")
	step("list user", err, nil, "find")
	step("delete", s.Delete(ctx, key), nil, "delete")
	rec.Version = 2
	step("update after delete", s.Save(ctx, key, rec), store.ErrConflict, "update")
	rec.Version = 0
	rec.Expires = now.Add(time.Minute)
	step("create after delete", s.Save(ctx, key, rec), nil, "update")
	clock.Advance(time.Minute)
	step("touch of an expired record", s.Touch(ctx, key, now, now.Add(time.Hour)), store.ErrNotFound, "update")
	rec.Expires = now.Add(time.Hour)
	step("create over an expired record", s.Save(ctx, key, rec), nil, "update")
	got, err := s.Load(ctx, key)
	step("load", err, nil, "find")
	if got != nil && got.Version != 1 {
		t.Errorf("created over an expired record: version %d, want 1", got.Version)
	}
}

// TestWritesAreSerializedOnFerretDB counts the commands of a save and a
// touch where the store serializes writes with lock documents.
func TestWritesAreSerializedOnFerretDB(t *testing.T) {
	t.Parallel()
	var c commands
	client := countingClient(t, &c)
	if !isFerretDB(t, client) {
		t.Skip("the server is MongoDB, where writes are one command each (TestWritesAreOneCommandOnMongoDB)")
	}
	s := newStore(t, client, mongodb.Config{})
	ctx := t.Context()
	now := time.Now()
	rec := &store.Record{Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	key := strings.Repeat("cd", 32)
	if err := s.Save(ctx, key, rec); err != nil { // asks buildInfo once
		t.Fatal(err)
	}
	c.take()
	rec.Version = 1
	if err := s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"insert": 1, "find": 1, "update": 1, "delete": 1}
	if got := c.take(); !maps.Equal(got, want) {
		t.Errorf("save sent %v, want %v: lock, read, write, unlock", got, want)
	}
	if err := s.Touch(ctx, key, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := c.take(); !maps.Equal(got, want) {
		t.Errorf("touch sent %v, want %v: lock, read, write, unlock", got, want)
	}
}
