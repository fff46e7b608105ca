package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/redis/rueidis"
	"github.com/rogpeppe/go-internal/testscript"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/keycard-go/keycard/cmd/keycard/internal/storeurl"
)

// The test servers, as the store packages' tests find them.
const (
	postgresVariable  = "KEYCARD_POSTGRES_DSN"
	mysqlVariable     = "KEYCARD_MYSQL_DSN"
	redisVariable     = "KEYCARD_REDIS_URL"
	memcachedVariable = "KEYCARD_MEMCACHED_ADDR"
	mongodbVariable   = "KEYCARD_MONGODB_URL"
)

func postgresDSN() string {
	if s := os.Getenv(postgresVariable); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

func mysqlDSN() string {
	if s := os.Getenv(mysqlVariable); s != "" {
		return s
	}
	return "root@tcp(127.0.0.1:3306)/test"
}

func redisURL() string {
	if s := os.Getenv(redisVariable); s != "" {
		return s
	}
	return "redis://127.0.0.1:6379/0"
}

func memcachedURL() string {
	if a := os.Getenv(memcachedVariable); a != "" {
		return "memcached://" + a
	}
	return "memcached://127.0.0.1:11211"
}

// mongodbURL returns the test MongoDB (or FerretDB) server's URL, with
// the database db.
func mongodbURL(db string) string {
	s := os.Getenv(mongodbVariable)
	if s == "" {
		s = "mongodb://127.0.0.1:27017"
	}
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	u.Path = "/" + db
	return u.String()
}

// probes remembers, per server, why it cannot be reached, or nil.
var probes sync.Map // server name → *probe

type probe struct {
	once sync.Once
	err  error
}

// serverCondition reports whether the server named cond (postgres, mysql,
// redis, memcached or mongodb) answers; the transcripts' lines for it run only if so. Under
// CI=true an absent server fails the script instead.
func serverCondition(cond string) (bool, error) {
	var store string
	switch cond {
	case "postgres":
		store = postgresDSN()
	case "mysql":
		store = "mysql://" + mysqlDSN()
	case "redis":
		store = redisURL()
	case "memcached":
		store = memcachedURL()
	case "mongodb":
		store = mongodbURL("keycard_cli_probe")
	default:
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	v, _ := probes.LoadOrStore(cond, new(probe))
	p := v.(*probe)
	p.once.Do(func() {
		u, err := storeurl.Parse(store)
		if err != nil {
			p.err = err
			return
		}
		h, err := storeurl.Open(context.Background(), u, storeurl.Options{Timeout: 3 * time.Second})
		if err != nil {
			p.err = err
			return
		}
		h.Close()
	})
	if p.err != nil && os.Getenv("CI") == "true" {
		return false, fmt.Errorf("%s is required under CI=true but unavailable: %v", cond, p.err)
	}
	return p.err == nil, nil
}

// cmdFreshDB makes a schema (PostgreSQL) or a database (MySQL) of its
// own, which the script's end drops, and sets VAR to its store URL, and
// VAR_NOPRIV to the store URL of a user of its own without privileges on
// it. For Redis it claims an empty numbered database of the server,
// which the script's end empties, and for MongoDB it names a database of
// its own, which the script's end drops; it sets VAR to its store URL:
//
//	freshdb postgres|mysql|redis|mongodb VAR
func cmdFreshDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: freshdb postgres|mysql|redis|mongodb VAR")
	}
	switch args[0] {
	case "redis":
		ts.Setenv(args[1], freshRedisDB(ts))
		return
	case "mongodb":
		ts.Setenv(args[1], freshMongoDB(ts))
		return
	}
	var b [6]byte
	rand.Read(b[:])
	name := "keycard_cli_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch args[0] {
	case "postgres":
		conn, err := pgx.Connect(ctx, postgresDSN())
		ts.Check(err)
		defer conn.Close(ctx)
		// The role may use the schema, so it sees the table, but has
		// no privileges on the table, nor to create one.
		for _, q := range []string{"CREATE SCHEMA " + name, "CREATE ROLE " + name + " LOGIN", "GRANT USAGE ON SCHEMA " + name + " TO " + name} {
			_, err := conn.Exec(ctx, q)
			ts.Check(err)
		}
		ts.Defer(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, err := pgx.Connect(ctx, postgresDSN())
			if err != nil {
				ts.Logf("dropping schema %s: %v", name, err)
				return
			}
			defer conn.Close(ctx)
			for _, q := range []string{"DROP SCHEMA IF EXISTS " + name + " CASCADE", "DROP ROLE IF EXISTS " + name} {
				if _, err := conn.Exec(ctx, q); err != nil {
					ts.Logf("%s: %v", q, err)
				}
			}
		})
		u, err := url.Parse(postgresDSN())
		ts.Check(err)
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		ts.Setenv(args[1], u.String())
		u.User = url.User(name)
		ts.Setenv(args[1]+"_NOPRIV", u.String())
	case "mysql":
		cfg, err := mysql.ParseDSN(mysqlDSN())
		ts.Check(err)
		cfg.Logger = &mysql.NopLogger{} // the driver's connection noise
		c, err := mysql.NewConnector(cfg)
		ts.Check(err)
		db := sql.OpenDB(c)
		defer db.Close()
		for _, q := range []string{"CREATE DATABASE " + name, "CREATE USER '" + name + "'@'%'"} {
			_, err := db.ExecContext(ctx, q)
			ts.Check(err)
		}
		ts.Defer(func() {
			db := sql.OpenDB(c)
			defer db.Close()
			for _, q := range []string{"DROP DATABASE IF EXISTS " + name, "DROP USER IF EXISTS '" + name + "'@'%'"} {
				if _, err := db.Exec(q); err != nil {
					ts.Logf("%s: %v", q, err)
				}
			}
		})
		cfg.DBName = name
		ts.Setenv(args[1], "mysql://"+cfg.FormatDSN())
		cfg.User, cfg.Passwd = name, ""
		ts.Setenv(args[1]+"_NOPRIV", "mysql://"+cfg.FormatDSN())
	default:
		ts.Fatalf("freshdb: unknown server %q", args[0])
	}
}

// cmdCorrupt overwrites the second page of the SQLite database FILE (its
// first page holds the header) with garbage:
//
//	corrupt FILE
func cmdCorrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: corrupt FILE")
	}
	f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_WRONLY, 0)
	ts.Check(err)
	defer f.Close()
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	_, err = f.WriteAt(garbage, 4096)
	ts.Check(err)
}

// freshRedisDB claims an empty database among Redis's numbered databases
// 1 to 15 of the test server, starting at a random one, by setting a key
// in it only if it is empty (a script, so two claims cannot both win),
// and returns its store URL. The script's end empties the database.
func freshRedisDB(ts *testscript.TestScript) string {
	u, err := url.Parse(redisURL())
	ts.Check(err)
	var b [1]byte
	rand.Read(b[:])
	for i := range 15 {
		db := 1 + (int(b[0])+i)%15
		u.Path = "/" + strconv.Itoa(db)
		c := redisClient(ts, u.String())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		claim := `if redis.call('DBSIZE') == 0 then return redis.call('SET', KEYS[1], '1') end return false`
		ok, err := c.Do(ctx, c.B().Eval().Script(claim).Numkeys(1).Key("keycard-cli-test-claim").Build()).ToString()
		cancel()
		if err == nil && ok == "OK" {
			ts.Defer(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := c.Do(ctx, c.B().Flushdb().Build()).Error(); err != nil {
					ts.Logf("emptying Redis database %d: %v", db, err)
				}
				c.Close()
			})
			return u.String()
		}
		c.Close()
	}
	ts.Fatalf("freshdb redis: no empty database among 1 to 15 of %s", redisURL())
	return ""
}

// redisClient connects to the Redis server of a store URL.
func redisClient(ts *testscript.TestScript, raw string) rueidis.Client {
	opt, err := rueidis.ParseURL(raw)
	ts.Check(err)
	opt.DisableCache = true
	c, err := rueidis.NewClient(opt)
	ts.Check(err)
	return c
}

// freshMongoDB names a database of the test MongoDB server that no other
// script uses, drops it when the script ends, and returns its store URL.
func freshMongoDB(ts *testscript.TestScript) string {
	var b [6]byte
	rand.Read(b[:])
	name := "keycard_cli_" + hex.EncodeToString(b[:])
	ts.Defer(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		client, err := mongo.Connect(options.Client().ApplyURI(mongodbURL(name)))
		if err != nil {
			ts.Logf("dropping database %s: %v", name, err)
			return
		}
		defer client.Disconnect(ctx)
		if err := client.Database(name).Drop(ctx); err != nil {
			ts.Logf("dropping database %s: %v", name, err)
		}
	})
	return mongodbURL(name)
}
