package rptest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
func envOr(name, def string) string {
	if s := os.Getenv(name); s != "" {
		return s
	}
	return def
}

var (
	postgresDSN = envOr("KEYCARD_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	mysqlDSN    = envOr("KEYCARD_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test")
	redisAddr   = envOr("KEYCARD_REDIS_ADDR", "127.0.0.1:6379")
)

// The MySQL driver logs connection errors to stderr; the tests see them
// through the store's errors.
func init() { driver.SetLogger(&driver.NopLogger{}) }

var nameSeq atomic.Int64

// uniqueName returns a table name or key prefix no other run uses.
func uniqueName(kind string) string {
	return fmt.Sprintf("keycard_oidc_%s_%s_%d", kind, strings.ToLower(rand.Text()[:8]), nameSeq.Add(1))
}

// rand26 returns a random token ID.
func rand26() string { return rand.Text() }

// backends lists every store with a user index. setup prepares one shared
// backend and returns how to open a handle on it; a server-backed one
// skips (fails under CI=true) when its server is down.
func backends() []struct {
	name  string
	setup func(t *testing.T) func(t *testing.T) store.Store
} {
	return []struct {
		name  string
		setup func(t *testing.T) func(t *testing.T) store.Store
	}{
		{"memory", func(t *testing.T) func(t *testing.T) store.Store {
			st := memory.New(memory.Config{})
			return func(*testing.T) store.Store { return st }
		}},
		{"sqlite", func(t *testing.T) func(t *testing.T) store.Store {
			path := filepath.Join(t.TempDir(), "sessions.db")
			return func(t *testing.T) store.Store {
				st, err := sqlite.Open(path, sqlite.Config{BusyTimeout: time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			}
		}},
		{"postgres", postgresBackend},
		{"mysql", mysqlBackend},
		{"redis", redisBackend},
	}
}

func postgresBackend(t *testing.T) func(t *testing.T) store.Store {
	table := uniqueName("pg")
	pool := func(t *testing.T) *pgxpool.Pool {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a guard: a refused connection fails at once
		defer cancel()
		p, err := pgxpool.New(ctx, postgresDSN)
		if err == nil {
			err = p.Ping(ctx)
		}
		if err != nil {
			if p != nil {
				p.Close()
			}
			storetest.Unavailable(t, "PostgreSQL at "+postgresDSN+" (or $KEYCARD_POSTGRES_DSN)", err)
		}
		t.Cleanup(p.Close)
		return p
	}
	admin := pool(t)
	st, err := postgres.New(admin, postgres.Config{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP TABLE IF EXISTS "+table) })
	return func(t *testing.T) store.Store {
		st, err := postgres.New(pool(t), postgres.Config{Table: table})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
}

func mysqlBackend(t *testing.T) func(t *testing.T) store.Store {
	table := uniqueName("my")
	open := func(t *testing.T) *sql.DB {
		db, err := sql.Open("mysql", mysqlDSN)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a guard: a refused connection fails at once
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			storetest.Unavailable(t, "MySQL/MariaDB at "+mysqlDSN+" (or $KEYCARD_MYSQL_DSN)", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	admin := open(t)
	st, err := mysql.New(admin, mysql.Config{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP TABLE IF EXISTS `" + table + "`") })
	return func(t *testing.T) store.Store {
		st, err := mysql.New(open(t), mysql.Config{Table: table})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
}

func redisBackend(t *testing.T) func(t *testing.T) store.Store {
	prefix := uniqueName("redis") + ":"
	client := func(t *testing.T) rueidis.Client {
		c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{redisAddr}, DisableCache: true})
		if err != nil {
			storetest.Unavailable(t, "Redis at "+redisAddr+" (or $KEYCARD_REDIS_ADDR)", err)
		}
		t.Cleanup(c.Close)
		return c
	}
	admin := client(t)
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := admin.Do(ctx, admin.B().Keys().Pattern(prefix+"*").Build()).AsStrSlice()
		if len(keys) > 0 {
			admin.Do(ctx, admin.B().Del().Key(keys...).Build())
		}
	})
	return func(t *testing.T) store.Store { return redis.New(client(t), redis.Config{Prefix: prefix}) }
}
