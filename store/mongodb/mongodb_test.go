package mongodb_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/keycard-go/keycard/keycardtest"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/mongodb"
	"github.com/keycard-go/keycard/store/storetest"
)

// urlVariable names the environment variable that overrides the test
// server's address.
const urlVariable = "KEYCARD_MONGODB_URL"

// server names the test server in skip and failure messages.
const server = "MongoDB or FerretDB at 127.0.0.1:27017 (or $" + urlVariable + ")"

// testDatabase holds the tests' collections, each dropped by its test.
const testDatabase = "keycard_test"

// serverURL returns the test server's connection string.
func serverURL() string {
	if s := os.Getenv(urlVariable); s != "" {
		return s
	}
	return "mongodb://127.0.0.1:27017"
}

// shared is the client most tests use, connected once by connect.
var shared struct {
	once   sync.Once
	client *mongo.Client
	err    error
}

// newClient connects a client of its own and checks that the server
// answers.
func newClient() (*mongo.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a guard: a refused connection fails at once
	defer cancel()
	opts := options.Client().ApplyURI(serverURL()).SetServerSelectionTimeout(5 * time.Second)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, err
	}
	if err := client.Ping(ctx, nil); err != nil {
		client.Disconnect(ctx)
		return nil, err
	}
	return client, nil
}

func connect() (*mongo.Client, error) {
	shared.once.Do(func() { shared.client, shared.err = newClient() })
	return shared.client, shared.err
}

// TestMain disconnects the shared client after the tests. When the server
// is unreachable outside CI, it leaves the examples out (their output
// needs the server), and the tests skip through storetest.Unavailable.
func TestMain(m *testing.M) {
	flag.Parse()
	if _, err := connect(); err != nil && os.Getenv("CI") != "true" {
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
			f.Value.Set("^(Test|Benchmark)")
		}
	}
	code := m.Run()
	if shared.client != nil {
		shared.client.Disconnect(context.Background())
	}
	os.Exit(code)
}

// sharedClient returns the shared client, or skips (fails under CI) if the
// server is unreachable.
func sharedClient(tb testing.TB) *mongo.Client {
	tb.Helper()
	client, err := connect()
	if err != nil {
		storetest.Unavailable(tb, server, err)
	}
	return client
}

// ownClient returns a client of its own, disconnected when tb ends.
func ownClient(tb testing.TB) *mongo.Client {
	tb.Helper()
	sharedClient(tb) // skips when the server is unreachable
	client, err := newClient()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Disconnect(context.Background()) })
	return client
}

// newCollection returns a collection name no other test uses, and drops
// the collection when tb ends.
func newCollection(tb testing.TB, client *mongo.Client) string {
	var b [6]byte
	rand.Read(b[:])
	name := "kctest_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, c := range []string{name, name + "_locks"} {
			if err := client.Database(testDatabase).Collection(c).Drop(ctx); err != nil {
				tb.Errorf("dropping collection %s: %v", c, err)
			}
		}
	})
	return name
}

// newStore returns a migrated store on a collection of its own.
func newStore(tb testing.TB, client *mongo.Client, cfg mongodb.Config) *mongodb.Store {
	tb.Helper()
	if cfg.Collection == "" {
		cfg.Collection = newCollection(tb, client)
	}
	s, err := mongodb.New(client.Database(testDatabase), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := s.Migrate(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return s
}

func harness(tb testing.TB) storetest.Harness {
	client := sharedClient(tb)
	return storetest.Harness{New: func(tb testing.TB, now func() time.Time) store.Store {
		return newStore(tb, client, mongodb.Config{Now: now})
	}}
}

func TestStorePassesTheConformanceSuite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, harness(t))
}

func TestTwoInstancesWithTheirOwnClientsShareSessions(t *testing.T) {
	t.Parallel()
	client := sharedClient(t)
	collection := newCollection(t, client)
	keycardtest.RunShared(t, func(tb testing.TB) store.Store {
		return newStore(tb, ownClient(tb), mongodb.Config{Collection: collection})
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, harness(b))
}
