package mysql_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/keycard-go/keycard/keycardtest"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/mysql"
	"github.com/keycard-go/keycard/store/storetest"
)

// defaultDSN is the server the tests use unless KEYCARD_MYSQL_DSN names
// another.
const defaultDSN = "root@tcp(127.0.0.1:3306)/test"

// server describes the test server for storetest.Unavailable.
const server = "MySQL or MariaDB at 127.0.0.1:3306 (or $KEYCARD_MYSQL_DSN)"

// parseDSN returns the parsed test DSN, a new copy on each call.
func parseDSN() (*driver.Config, error) {
	dsn := os.Getenv("KEYCARD_MYSQL_DSN")
	if dsn == "" {
		dsn = defaultDSN
	}
	cfg, err := driver.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("KEYCARD_MYSQL_DSN: %w", err)
	}
	return cfg, nil
}

var (
	availableOnce sync.Once
	availableErr  error
)

// available reports why the test server cannot be reached, or nil; it
// asks the server once per test binary.
func available() error {
	availableOnce.Do(func() {
		cfg, err := parseDSN()
		if err != nil {
			availableErr = err
			return
		}
		cfg.Timeout = 3 * time.Second
		c, err := driver.NewConnector(cfg)
		if err != nil {
			availableErr = err
			return
		}
		db := sql.OpenDB(c)
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a guard: a refused connection fails at once
		defer cancel()
		availableErr = db.PingContext(ctx)
	})
	return availableErr
}

// The driver logs the connection errors it meets to stderr, and the
// failure tests kill connections on purpose: the lines it would print for
// them ("[mysql] packets.go: ... connection reset by peer") would bury the
// real failures. The store reports every error it returns, so nothing is
// lost. It runs in init, before any DSN is parsed: a parsed Config keeps
// the logger set at the time.
func init() { driver.SetLogger(&driver.NopLogger{}) }

// TestMain skips Example, which prints what the server answered, when the
// server is absent and CI is not set; the tests skip themselves.
func TestMain(m *testing.M) {
	flag.Parse()
	if err := available(); err != nil && os.Getenv("CI") != "true" {
		fmt.Fprintf(os.Stderr, "%s unavailable (%v): skipping Example\n", server, err)
		skip := "^Example$"
		if s := flag.Lookup("test.skip").Value.String(); s != "" {
			skip = s + "|" + skip
		}
		flag.Set("test.skip", skip)
	}
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	os.Exit(code)
}

// openDB returns a new pool of at most 10 connections on the test server,
// configured by edit if it is not nil, and closes it when tb ends. It skips tb (or fails it under
// CI=true) if the server is unreachable.
func openDB(tb testing.TB, edit func(*driver.Config)) *sql.DB {
	tb.Helper()
	if err := available(); err != nil {
		storetest.Unavailable(tb, server, err)
	}
	cfg, err := parseDSN()
	if err != nil {
		tb.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	c, err := driver.NewConnector(cfg)
	if err != nil {
		tb.Fatalf("NewConnector: %v", err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(10)
	tb.Cleanup(func() { db.Close() })
	return db
}

var (
	sharedOnce sync.Once
	shared     *sql.DB // the pool most tests share; TestMain closes it
)

// sharedDB returns the pool most tests share.
func sharedDB(tb testing.TB) *sql.DB {
	tb.Helper()
	if err := available(); err != nil {
		storetest.Unavailable(tb, server, err)
	}
	sharedOnce.Do(func() {
		cfg, err := parseDSN()
		if err != nil {
			panic(err) // available checked it
		}
		c, err := driver.NewConnector(cfg)
		if err != nil {
			panic(err)
		}
		shared = sql.OpenDB(c)
		shared.SetMaxOpenConns(16)
		shared.SetMaxIdleConns(16)
	})
	return shared
}

// runID makes this test binary's table names unique among concurrent and
// repeated runs.
var runID = func() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

var tableSeq atomic.Int64

// newTable returns a table name no other test uses, and drops the table
// when tb ends.
func newTable(tb testing.TB, db *sql.DB) string {
	tb.Helper()
	table := fmt.Sprintf("keycard_test_%s_%d", runID, tableSeq.Add(1))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS `"+table+"`"); err != nil {
			tb.Errorf("dropping %s: %v", table, err)
		}
	})
	return table
}

// newStore returns a migrated store on db in a new table, configured by
// cfg with the table filled in.
func newStore(tb testing.TB, db *sql.DB, cfg mysql.Config) *mysql.Store {
	tb.Helper()
	cfg.Table = newTable(tb, db)
	s, err := mysql.New(db, cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

// harness makes each store in a new table of the shared pool.
var harness = storetest.Harness{
	New: func(tb testing.TB, now func() time.Time) store.Store {
		return newStore(tb, sharedDB(tb), mysql.Config{Now: now})
	},
}

func TestConformance(t *testing.T) {
	storetest.Run(t, harness)
}

// TestConformanceWithClientFoundRows runs the suite again over a pool whose
// DSN sets clientFoundRows=true, which changes the rows-affected counts
// that Save and Touch read.
func TestConformanceWithClientFoundRows(t *testing.T) {
	db := openDB(t, func(c *driver.Config) { c.ClientFoundRows = true })
	storetest.Run(t, storetest.Harness{
		New: func(tb testing.TB, now func() time.Time) store.Store {
			return newStore(tb, db, mysql.Config{Now: now})
		},
	})
}

func TestSharedByTwoInstances(t *testing.T) {
	table := newTable(t, sharedDB(t))
	keycardtest.RunShared(t, func(tb testing.TB) store.Store {
		s, err := mysql.New(openDB(tb, nil), mysql.Config{Table: table})
		if err != nil {
			tb.Fatalf("New: %v", err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			tb.Fatalf("Migrate: %v", err)
		}
		return s
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, harness)
}
