package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycard-go/keycard/keycardtest"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/postgres"
	"github.com/keycard-go/keycard/store/storetest"
)

// dsnVariable names the environment variable that overrides the test
// server's address.
const dsnVariable = "KEYCARD_POSTGRES_DSN"

// server names the test server in skip and failure messages.
const server = "PostgreSQL at 127.0.0.1:5432 (or $" + dsnVariable + ")"

// dsn returns the test server's connection string.
func dsn() string {
	if s := os.Getenv(dsnVariable); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// shared is the pool most tests use, connected once by sharedPool.
var shared struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

// connect opens the shared pool and checks that the server answers.
func connect() (*pgxpool.Pool, error) {
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a guard: a refused connection fails at once
		defer cancel()
		pool, err := pgxpool.New(ctx, dsn())
		if err == nil {
			err = pool.Ping(ctx)
		}
		if err != nil {
			if pool != nil {
				pool.Close()
			}
			shared.err = err
			return
		}
		shared.pool = pool
	})
	return shared.pool, shared.err
}

// TestMain closes the shared pool after the tests. When the server is
// unreachable outside CI, it leaves the examples out (their output needs
// the server), and the tests skip through storetest.Unavailable.
func TestMain(m *testing.M) {
	flag.Parse()
	if _, err := connect(); err != nil && os.Getenv("CI") != "true" {
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
			f.Value.Set("^(Test|Benchmark)")
		}
	}
	code := m.Run()
	if shared.pool != nil {
		shared.pool.Close()
	}
	os.Exit(code)
}

// sharedPool returns the shared pool, or skips (fails under CI) if the
// server is unreachable.
func sharedPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := connect()
	if err != nil {
		storetest.Unavailable(tb, server, err)
	}
	return pool
}

// newPool returns a pool of its own, configured by configure if not nil,
// and closes it when the test ends.
func newPool(tb testing.TB, configure func(*pgxpool.Config)) *pgxpool.Pool {
	tb.Helper()
	sharedPool(tb) // skips when the server is unreachable
	cfg, err := pgxpool.ParseConfig(dsn())
	if err != nil {
		tb.Fatal(err)
	}
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

var tableCount atomic.Int64

// uniqueName returns a name no other test, run or concurrent process uses.
func uniqueName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s_%s_%d", prefix, hex.EncodeToString(b[:]), tableCount.Add(1))
}

// newStore returns a migrated store on pool, in a table of its own unless
// cfg names one, and drops the table when the test ends.
func newStore(tb testing.TB, pool *pgxpool.Pool, cfg postgres.Config) *postgres.Store {
	tb.Helper()
	if cfg.Table == "" {
		cfg.Table = uniqueName("keycard_test")
	}
	s, err := postgres.New(pool, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dropTable(tb, cfg.Table) })
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// dropTable drops table through the shared pool, if there is one.
func dropTable(tb testing.TB, table string) {
	if shared.pool == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := shared.pool.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		tb.Errorf("dropping %s: %v", table, err)
	}
}

// harness makes each store in a table of its own on the shared pool.
var harness = storetest.Harness{
	New: func(tb testing.TB, now func() time.Time) store.Store {
		return newStore(tb, sharedPool(tb), postgres.Config{Now: now})
	},
}

func TestStoreConformsToTheContract(t *testing.T) {
	storetest.Run(t, harness)
}

func TestStoreConformsUnderSerializableIsolation(t *testing.T) {
	pool := newPool(t, func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["default_transaction_isolation"] = "serializable"
	})
	storetest.Run(t, storetest.Harness{
		New: func(tb testing.TB, now func() time.Time) store.Store {
			return newStore(tb, pool, postgres.Config{Now: now})
		},
	})
}

func TestTwoInstancesShareOneTable(t *testing.T) {
	table := uniqueName("keycard_test")
	newStore(t, sharedPool(t), postgres.Config{Table: table})
	keycardtest.RunShared(t, func(tb testing.TB) store.Store {
		// The test's 200 requests on one session succeed one commit at
		// a time, each retried by the Manager a bounded number of times;
		// on a busy machine, waiting for each commit to reach the disk
		// can exhaust those retries. Commits that skip the wait are
		// visible and locked exactly the same, and visibility and
		// locking are what the test checks, not durability.
		pool := newPool(tb, func(c *pgxpool.Config) { c.ConnConfig.RuntimeParams["synchronous_commit"] = "off" })
		s, err := postgres.New(pool, postgres.Config{Table: table})
		if err != nil {
			tb.Fatal(err)
		}
		return s
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, harness)
}

// BenchmarkStoreAsyncCommit is BenchmarkStore with synchronous_commit off
// on the store's connections: writes no longer wait for the disk.
func BenchmarkStoreAsyncCommit(b *testing.B) {
	pool := newPool(b, func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	})
	storetest.Bench(b, storetest.Harness{
		New: func(tb testing.TB, now func() time.Time) store.Store {
			return newStore(tb, pool, postgres.Config{Now: now})
		},
	})
}

// BenchmarkParallelWrites touches records from 16 goroutines over 16
// connections at once, to show how concurrent commits share the WAL
// flushes that a single caller waits for one at a time.
func BenchmarkParallelWrites(b *testing.B) {
	pool := newPool(b, func(c *pgxpool.Config) { c.MaxConns = 16 })
	s := newStore(b, pool, postgres.Config{})
	now := time.Now()
	const keys = 1024
	for i := range keys {
		rec := &store.Record{Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
		if err := s.Save(b.Context(), fmt.Sprintf("%064x", i), rec); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(8) // 16 goroutines on 2 CPUs
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprintf("%064x", next.Add(1)%keys)
			if err := s.Touch(b.Context(), key, now, now.Add(time.Hour)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
