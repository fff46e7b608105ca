package storeurl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/keycard-go/keycard/store"
	memcachedstore "github.com/keycard-go/keycard/store/memcached"
	"github.com/keycard-go/keycard/store/memory"
	mongostore "github.com/keycard-go/keycard/store/mongodb"
	mysqlstore "github.com/keycard-go/keycard/store/mysql"
	pgstore "github.com/keycard-go/keycard/store/postgres"
	redisstore "github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/sqlite"
)

// ErrUnavailable is wrapped by the errors of Open when the store's server
// cannot be reached or its database cannot be opened.
var ErrUnavailable = errors.New("cannot open the store")

// ErrNoDatabase is wrapped by the errors of Open when Options.MustExist is
// set and an SQLite database file does not exist.
var ErrNoDatabase = errors.New("no such database file")

// ErrNoDirectory is wrapped by the errors of Open and Migrate when an
// SQLite database file is to be created in a directory that does not
// exist.
var ErrNoDirectory = errors.New("cannot create the database")

// ErrIsDirectory is wrapped by the errors of Open and Migrate when an
// SQLite URL names a directory.
var ErrIsDirectory = errors.New("not a database file")

// DefaultTimeout bounds connecting to a store server when
// Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Options says how Open opens a store.
type Options struct {
	// MustExist refuses to create a missing SQLite database file, for
	// tools that only read or clean up existing sessions.
	MustExist bool
	// Migrate creates the sessions table of SQL stores if it does not
	// exist. Without it, a store whose table is missing fails each
	// operation with an error for which CauseOf returns CauseNoTable.
	Migrate bool
	// Timeout bounds connecting to a server. The default is
	// DefaultTimeout.
	Timeout time.Duration
}

// A Handle is an open store.
type Handle struct {
	// Store is the store. Check for capabilities (store.UserIndex,
	// store.Sweeper, store.Scanner) with type assertions on it.
	Store store.Store
	// URL is the URL it was opened from.
	URL *URL
	// NativeExpiry reports whether the store expires records by itself,
	// so that nothing needs sweeping (Redis, memcached).
	NativeExpiry bool

	close func() error
}

// Close closes the store and its connections.
func (h *Handle) Close() error {
	if h.close == nil {
		return nil
	}
	return h.close()
}

// Open opens the store u names and checks that it answers. Its errors
// never include a password.
func Open(ctx context.Context, u *URL, opt Options) (*Handle, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	h, err := open(ctx, u, opt)
	if err != nil {
		return nil, err
	}
	h.URL = u
	return h, nil
}

func open(ctx context.Context, u *URL, opt Options) (*Handle, error) {
	switch u.Kind {
	case Memory:
		st := memory.New(memory.Config{})
		return &Handle{Store: st, close: st.Close}, nil
	case SQLite:
		return openSQLite(u, opt)
	case Redis:
		return openRedis(ctx, u, opt)
	case Postgres:
		return openPostgres(ctx, u, opt)
	case MySQL:
		return openMySQL(ctx, u, opt)
	case Memcached:
		return openMemcached(u, opt)
	case MongoDB:
		return openMongoDB(ctx, u, opt)
	}
	return nil, fmt.Errorf("%w: %s", ErrSyntax, u)
}

func openSQLite(u *URL, opt Options) (*Handle, error) {
	if err := checkSQLiteFile(u, opt.MustExist); err != nil {
		return nil, err
	}
	if opt.Migrate {
		st, err := sqlite.Open(u.Path, sqlite.Config{})
		if err != nil {
			return nil, &openError{ErrUnavailable, u, "", err}
		}
		return &Handle{Store: st, close: st.Close}, nil
	}
	// sqlite.Open would create the table; open the database as it does,
	// without.
	db, err := sql.Open("sqlite", sqlite.DSN(u.Path, sqlite.Config{}))
	if err != nil {
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	if mode != "wal" {
		db.Close()
		return nil, &openError{ErrUnavailable, u, fmt.Sprintf("journal mode is %q, not wal: the database must be a file on a local file system", mode), nil}
	}
	st, err := sqlite.New(db, sqlite.Config{})
	if err != nil {
		db.Close()
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	return &Handle{Store: st, close: func() error { return errors.Join(st.Close(), db.Close()) }}, nil
}

// checkSQLiteFile checks, before SQLite does, that u's database file is
// one keycard can open and write, so that the error says why not: SQLite
// reports most of these as "unable to open database file".
func checkSQLiteFile(u *URL, mustExist bool) error {
	fi, err := os.Stat(u.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && mustExist:
		return &openError{ErrNoDatabase, u, "", nil}
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(u.Path)
		if di, err := os.Stat(dir); err != nil || !di.IsDir() {
			return &openError{ErrNoDirectory, u, "no directory " + dir + " to create it in", nil}
		}
		return nil
	case err != nil:
		return &openError{ErrUnavailable, u, "", err}
	case fi.IsDir():
		return &openError{ErrIsDirectory, u, "it is a directory", nil}
	}
	f, err := os.OpenFile(u.Path, os.O_RDWR, 0)
	if err != nil {
		return &openError{ErrUnavailable, u, "", err}
	}
	return f.Close()
}

func openRedis(ctx context.Context, u *URL, opt Options) (*Handle, error) {
	o := *u.redis
	o.DisableCache = true // the store never uses client-side caching
	if o.Dialer.Timeout == 0 {
		o.Dialer.Timeout = opt.Timeout
	}
	if o.ConnWriteTimeout == 0 {
		o.ConnWriteTimeout = opt.Timeout
	}
	c, err := rueidis.NewClient(o)
	if err != nil {
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	pctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	if err := c.Do(pctx, c.B().Ping().Build()).Error(); err != nil {
		c.Close()
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	return &Handle{Store: redisstore.New(c, redisstore.Config{}), NativeExpiry: true,
		close: func() error { c.Close(); return nil }}, nil
}

func openPostgres(ctx context.Context, u *URL, opt Options) (*Handle, error) {
	cfg := u.pg.Copy()
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = opt.Timeout
	}
	pctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(pctx, cfg)
	if err != nil {
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	st, err := pgstore.New(pool, pgstore.Config{})
	if err == nil && opt.Migrate {
		err = st.Migrate(pctx)
	}
	if err != nil {
		pool.Close()
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	return &Handle{Store: st, close: func() error { pool.Close(); return nil }}, nil
}

func openMySQL(ctx context.Context, u *URL, opt Options) (*Handle, error) {
	cfg := u.mysql.Clone()
	if cfg.Timeout == 0 {
		cfg.Timeout = opt.Timeout
	}
	// The driver logs connection trouble to stderr itself; the error it
	// returns says the same in one line.
	cfg.Logger = log.New(discard{}, "", 0)
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, &openError{ErrSyntax, u, "", err}
	}
	db := sql.OpenDB(conn)
	pctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	st, err := mysqlstore.New(db, mysqlstore.Config{})
	if err == nil && opt.Migrate {
		err = st.Migrate(pctx)
	}
	if err != nil {
		db.Close()
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	return &Handle{Store: st, close: db.Close}, nil
}

// openMemcached opens a memcached store and checks that every server
// answers. Its sessions expire in memcached itself.
func openMemcached(u *URL, opt Options) (*Handle, error) {
	c := memcache.New(u.memcached...)
	c.Timeout = opt.Timeout
	if err := c.Ping(); err != nil {
		c.Close()
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	return &Handle{Store: memcachedstore.New(c, memcachedstore.Config{}), NativeExpiry: true, close: c.Close}, nil
}

// openMongoDB connects to a MongoDB (or FerretDB) server, checks that it
// answers, and opens the store in the URL's database; with
// Options.Migrate it creates the store's indexes.
func openMongoDB(ctx context.Context, u *URL, opt Options) (*Handle, error) {
	client, err := mongo.Connect(options.Client().ApplyURI(u.raw).
		SetServerSelectionTimeout(opt.Timeout).SetConnectTimeout(opt.Timeout))
	if err != nil {
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	disconnect := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), opt.Timeout)
		defer cancel()
		return client.Disconnect(ctx)
	}
	pctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	if err := client.Ping(pctx, nil); err != nil {
		disconnect()
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	st, err := mongostore.New(client.Database(u.mongo.Database), mongostore.Config{})
	if err == nil && opt.Migrate {
		_, err = st.Migrate(pctx)
	}
	if err != nil {
		disconnect()
		return nil, &openError{ErrUnavailable, u, "", err}
	}
	return &Handle{Store: st, close: disconnect}, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// openError is an error of Open: what failed, for which store, and why.
type openError struct {
	kind   error
	u      *URL
	detail string
	cause  error
}

func (e *openError) Error() string {
	msg := e.kind.Error() + " " + e.u.String()
	if e.detail != "" {
		msg += ": " + e.detail
	}
	if e.cause != nil {
		msg += ": " + oneLine(causeText(e.cause))
	}
	return scrub(msg, e.u.password)
}

func (e *openError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// causeText returns the message of err, a driver's error. pgx tries each
// address of a host, and with sslmode=prefer each one with and without
// TLS, and reports the failure of every attempt on a line of its own;
// causeText says each distinct failure once, without the user and
// database the URL shows.
func causeText(err error) string {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err.Error()
	}
	var kept []string
	for line := range strings.SplitSeq(ce.Unwrap().Error(), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !slices.ContainsFunc(kept, func(k string) bool { return strings.Contains(k, line) }) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "; ")
}

// oneLine joins the lines of a multi-line driver message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
