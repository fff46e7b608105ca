// Command benchserver serves the benchmark routes (see package bench) with
// Keycard, on a loopback address, so that any load tool can be pointed at
// it:
//
//	benchserver -addr 127.0.0.1:8080 -store memory
//	benchserver -addr 127.0.0.1:8080 -store sqlite:/tmp/sessions.db
//	benchserver -addr 127.0.0.1:8080 -store redis://127.0.0.1:6379/0?prefix=bench:
//	benchserver -addr 127.0.0.1:8080 -store postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	benchserver -addr 127.0.0.1:8080 -store mysql://root@127.0.0.1:3306/test
//
// The SQL stores use the table named by -table, which they create; -drop
// drops it on exit. The signing key is fixed, so a restarted server keeps
// accepting its cookies: the server listens only on loopback.
//
// It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	driver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycard-go/keycard/bench"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/mysql"
	"github.com/keycard-go/keycard/store/postgres"
	"github.com/keycard-go/keycard/store/sqlite"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "loopback address to listen on")
	spec := flag.String("store", "memory", "memory | sqlite:PATH | redis://HOST:PORT[/DB][?prefix=P] | postgres://… | mysql://USER[:PASS]@HOST:PORT/DB")
	table := flag.String("table", "keycard_bench", "the SQL stores' table")
	drop := flag.Bool("drop", false, "drop the SQL table on exit")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile of the whole run to this file at exit")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchserver: ")

	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		log.Fatalf("-addr %q: listen on a loopback address (127.0.0.1:PORT)", *addr)
	}
	ctx := context.Background()
	st, name, closeStore, err := openStore(ctx, *spec, *table, *drop)
	if err != nil {
		log.Fatal(err)
	}
	impl, err := bench.NewKeycard(name, st)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: impl.Handler, ReadHeaderTimeout: 10 * time.Second}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("benchserver: %s on http://%s\n", name, l.Addr())
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer writeAllocs(*memProfile)
	}
	done := make(chan os.Signal, 1)
	signal.Notify(done, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-done
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
	}
	closeStore()
}

// openStore opens the store named by spec and returns it with the
// implementation's name and a function that releases it.
func openStore(ctx context.Context, spec, table string, drop bool) (store.Store, string, func(), error) {
	switch {
	case spec == "memory":
		return nil, "keycard-memory", func() {}, nil // Keycard's default store
	case strings.HasPrefix(spec, "sqlite:"):
		st, err := sqlite.Open(strings.TrimPrefix(spec, "sqlite:"), sqlite.Config{Table: table})
		if err != nil {
			return nil, "", nil, err
		}
		return st, "keycard-sqlite", func() { st.Close() }, nil
	case strings.HasPrefix(spec, "redis://"):
		u, err := url.Parse(spec)
		if err != nil {
			return nil, "", nil, err
		}
		if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
			return nil, "", nil, fmt.Errorf("-store %q: only database 0 is supported", spec)
		}
		prefix := u.Query().Get("prefix")
		if prefix == "" {
			prefix = "keycard:"
		}
		st, closeClient, err := bench.KeycardRedisStore(u.Host, prefix)
		if err != nil {
			return nil, "", nil, err
		}
		return st, "keycard-redis", closeClient, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		pool, err := pgxpool.New(ctx, spec)
		if err != nil {
			return nil, "", nil, err
		}
		st, err := postgres.New(pool, postgres.Config{Table: table})
		if err == nil {
			err = st.Migrate(ctx)
		}
		if err != nil {
			pool.Close()
			return nil, "", nil, err
		}
		return st, "keycard-postgres", func() {
			if drop {
				pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+table)
			}
			pool.Close()
		}, nil
	case strings.HasPrefix(spec, "mysql://"):
		dsn, err := mysqlDSN(spec)
		if err != nil {
			return nil, "", nil, err
		}
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			return nil, "", nil, err
		}
		st, err := mysql.New(db, mysql.Config{Table: table})
		if err == nil {
			err = st.Migrate(ctx)
		}
		if err != nil {
			db.Close()
			return nil, "", nil, err
		}
		return st, "keycard-mysql", func() {
			if drop {
				db.Exec("DROP TABLE IF EXISTS " + table)
			}
			db.Close()
		}, nil
	}
	return nil, "", nil, fmt.Errorf("-store %q: want memory, sqlite:PATH, redis://…, postgres://… or mysql://…", spec)
}

// mysqlDSN turns mysql://user:pass@host:port/db?params into the driver's
// DSN.
func mysqlDSN(spec string) (string, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return "", err
	}
	cfg := driver.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr = "tcp", u.Host
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if len(u.Query()) > 0 {
		cfg.Params = make(map[string]string)
		for k, v := range u.Query() {
			cfg.Params[k] = v[0]
		}
	}
	return cfg.FormatDSN(), nil
}

// writeAllocs writes the allocations sampled since the start (pprof's
// allocs profile: alloc_space and alloc_objects by call stack) to name.
func writeAllocs(name string) {
	f, err := os.Create(name)
	if err != nil {
		log.Print(err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		log.Print(err)
	}
}
