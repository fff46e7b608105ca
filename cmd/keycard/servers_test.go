package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keycard-go/keycard/cmd/keycard/internal/storeurl"
)

// The test servers, as the store packages' tests find them.
const (
	postgresVariable = "KEYCARD_POSTGRES_DSN"
	mysqlVariable    = "KEYCARD_MYSQL_DSN"
	redisVariable    = "KEYCARD_REDIS_URL"
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

// probes remembers, per server, why it cannot be reached, or nil.
var probes sync.Map // server name → *probe

type probe struct {
	once sync.Once
	err  error
}

// serverCondition reports whether the server named cond (postgres, mysql
// or redis) answers; the transcripts' lines for it run only if so. Under
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
// it:
//
//	freshdb postgres|mysql VAR
func cmdFreshDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: freshdb postgres|mysql VAR")
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
