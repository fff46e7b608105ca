package reliability_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/mysql"
	"github.com/keycard-go/keycard/store/postgres"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/sqlite"
	"github.com/keycard-go/keycard/store/storetest"
)

// The servers, as the store packages' own tests find them.
const (
	postgresEnv = "KEYCARD_POSTGRES_DSN"
	mysqlEnv    = "KEYCARD_MYSQL_DSN"
	redisEnv    = "KEYCARD_REDIS_ADDR"
)

func postgresDSN() string {
	if s := os.Getenv(postgresEnv); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

func mysqlDSN() string {
	if s := os.Getenv(mysqlEnv); s != "" {
		return s
	}
	return "root@tcp(127.0.0.1:3306)/test"
}

func redisAddr() string {
	if s := os.Getenv(redisEnv); s != "" {
		return s
	}
	return "127.0.0.1:6379"
}

// runID keeps this run's tables and key prefixes apart from other runs on
// the same servers.
var runID = func() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

var nameSeq atomic.Int64

// uniqueName returns a table name or key prefix no other test uses.
func uniqueName(kind string) string {
	return fmt.Sprintf("keycard_rel_%s_%s_%d", kind, runID, nameSeq.Add(1))
}

// backend opens independent handles on one shared session store, as
// separate application instances would have: each call of open returns a
// new handle (its own pool, client or file handle) on the same data.
type backend struct {
	name string
	open func(tb testing.TB) store.Store
}

// backends returns every store a cross-instance test runs over. Each
// server-backed one skips (fails under CI=true) when its server is down.
func backends() []struct {
	name  string
	setup func(tb testing.TB) backend
} {
	return []struct {
		name  string
		setup func(tb testing.TB) backend
	}{
		{"memory", memoryBackend},
		{"sqlite", sqliteBackend},
		{"postgres", func(tb testing.TB) backend { return postgresBackend(tb, "") }},
		{"mysql", func(tb testing.TB) backend { return mysqlBackend(tb, "") }},
		{"redis", func(tb testing.TB) backend { return redisBackend(tb, redisAddr(), "") }},
	}
}

// memoryBackend shares one memory store: it cannot be shared between
// processes, so its instances share the value.
func memoryBackend(tb testing.TB) backend {
	st := memory.New(memory.Config{})
	return backend{name: "memory", open: func(testing.TB) store.Store { return st }}
}

// sqliteBackend opens the same database file once per instance.
func sqliteBackend(tb testing.TB) backend {
	path := filepath.Join(tb.TempDir(), "sessions.db")
	return backend{name: "sqlite", open: func(tb testing.TB) store.Store {
		// Three handles write to one file: a writer waits for the
		// others' lock for up to BusyTimeout, a guard here, as a loaded
		// machine can hold a lock longer than the default 5 s.
		st, err := sqlite.Open(path, sqlite.Config{BusyTimeout: time.Minute})
		if err != nil {
			tb.Fatalf("sqlite.Open: %v", err)
		}
		tb.Cleanup(func() { st.Close() })
		return st
	}}
}

// postgresBackend gives each instance its own pool on one table. With
// addr set, the pools dial addr (a proxy) instead of the server.
func postgresBackend(tb testing.TB, addr string) backend {
	tb.Helper()
	table := uniqueName("pg")
	admin := postgresPool(tb, "")
	st, err := postgres.New(admin, postgres.Config{Table: table})
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Migrate(deadline(tb, 30*time.Second)); err != nil {
		tb.Fatalf("postgres Migrate: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
			tb.Errorf("dropping %s: %v", table, err)
		}
	})
	return backend{name: "postgres", open: func(tb testing.TB) store.Store {
		st, err := postgres.New(postgresPool(tb, addr), postgres.Config{Table: table})
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}}
}

// postgresPool returns a new pool on the test server, through addr if it
// is not "", closed when tb ends. It skips (fails under CI=true) when the
// server does not answer.
func postgresPool(tb testing.TB, addr string) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(postgresDSN())
	if err != nil {
		tb.Fatalf("%s: %v", postgresEnv, err)
	}
	if addr != "" {
		host, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(p)
		cfg.ConnConfig.Fallbacks = nil
	}
	cfg.MaxConns = 8
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a guard: a refused connection fails at once
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		storetest.Unavailable(tb, "PostgreSQL at "+postgresDSN()+" (or $"+postgresEnv+")", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// postgresServerAddr returns host:port of the PostgreSQL test server.
func postgresServerAddr(tb testing.TB) string {
	cfg, err := pgxpool.ParseConfig(postgresDSN())
	if err != nil {
		tb.Fatalf("%s: %v", postgresEnv, err)
	}
	return net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
}

// mysqlBackend gives each instance its own *sql.DB on one table. With addr
// set, they dial addr (a proxy) instead of the server.
func mysqlBackend(tb testing.TB, addr string) backend {
	tb.Helper()
	table := uniqueName("my")
	admin := mysqlDB(tb, "")
	st, err := mysql.New(admin, mysql.Config{Table: table})
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Migrate(deadline(tb, 30*time.Second)); err != nil {
		tb.Fatalf("mysql Migrate: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP TABLE IF EXISTS `"+table+"`"); err != nil {
			tb.Errorf("dropping %s: %v", table, err)
		}
	})
	return backend{name: "mysql", open: func(tb testing.TB) store.Store {
		st, err := mysql.New(mysqlDB(tb, addr), mysql.Config{Table: table})
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}}
}

// The MySQL driver logs the connection errors it meets to stderr, and the
// fault tests break connections on purpose: its lines for them ("[mysql]
// packets.go: ... connection reset by peer") would bury the real failures,
// which the tests see through the errors the store returns. It runs in
// init, before any DSN is parsed: a parsed Config keeps the logger set at
// the time.
func init() { driver.SetLogger(&driver.NopLogger{}) }

// mysqlDB returns a new *sql.DB on the test server, through addr if it is
// not "", closed when tb ends. It skips (fails under CI=true) when the
// server does not answer.
func mysqlDB(tb testing.TB, addr string) *sql.DB {
	tb.Helper()
	cfg, err := driver.ParseDSN(mysqlDSN())
	if err != nil {
		tb.Fatalf("%s: %v", mysqlEnv, err)
	}
	if addr != "" {
		cfg.Net, cfg.Addr = "tcp", addr
	}
	cfg.Timeout = 3 * time.Second
	c, err := driver.NewConnector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a guard: a refused connection fails at once
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		storetest.Unavailable(tb, "MySQL/MariaDB at "+mysqlDSN()+" (or $"+mysqlEnv+")", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// mysqlServerAddr returns host:port of the MySQL test server.
func mysqlServerAddr(tb testing.TB) string {
	cfg, err := driver.ParseDSN(mysqlDSN())
	if err != nil {
		tb.Fatalf("%s: %v", mysqlEnv, err)
	}
	return cfg.Addr
}

// redisBackend gives each instance its own rueidis client on the server at
// addr, dialing via instead if it is not "" (a proxy), under one key
// prefix, deleted when tb ends.
func redisBackend(tb testing.TB, addr, via string) backend {
	tb.Helper()
	if _, err := redisCommand(addr, "PING"); err != nil {
		storetest.Unavailable(tb, "Redis at "+addr+" (or $"+redisEnv+")", err)
	}
	prefix := uniqueName("redis") + ":"
	tb.Cleanup(func() { deleteRedisPrefix(tb, addr, prefix) })
	dial := addr
	if via != "" {
		dial = via
	}
	return backend{name: "redis", open: func(tb testing.TB) store.Store {
		return redis.New(redisClient(tb, dial), redis.Config{Prefix: prefix})
	}}
}

// redisClient returns a rueidis client on addr, closed when tb ends. Its
// options are the defaults but for the client-side cache, and those that
// edit, if not nil, sets.
func redisClient(tb testing.TB, addr string, edit ...func(*rueidis.ClientOption)) rueidis.Client {
	tb.Helper()
	opt := rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true}
	for _, e := range edit {
		e(&opt)
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		tb.Fatalf("rueidis.NewClient(%s): %v", addr, err)
	}
	tb.Cleanup(c.Close)
	return c
}

// deleteRedisPrefix deletes every key under prefix.
func deleteRedisPrefix(tb testing.TB, addr, prefix string) {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		tb.Logf("cleaning up %s*: %v", prefix, err)
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			tb.Logf("cleaning up %s*: %v", prefix, err)
			return
		}
		if len(e.Elements) > 0 {
			c.Do(ctx, c.B().Unlink().Key(e.Elements...).Build())
		}
		if cursor = e.Cursor; cursor == 0 {
			return
		}
	}
}
