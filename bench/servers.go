// Package bench compares Keycard with peer session libraries on one
// workload: the same four routes, served by the same handler code, with
// each library supplying only the session operations.
//
//	GET /login   regenerates the session ID, stores user=bench and
//	             counter=0, answers 200 "ok"
//	GET /read    answers 200 with the stored user, 401 without a session
//	GET /write   increments counter and answers 200 with the new value,
//	             401 without a session
//	GET /health  answers 200 "ok" without touching the session
//
// The implementations are built by the New* functions; the benchmarks in
// this package serve them in process, and cmd/benchserver and
// cmd/peerserver serve them over HTTP for cmd/loadgen. Each library is
// configured as its documentation recommends for production; where that
// changes what a request costs, the constructor's doc says so.
package bench

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/boj/redistore"
	"github.com/gorilla/sessions"
	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store"
	kredis "github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/sqlite"
)

// User is the user every login stores.
const User = "bench"

// secret derives the fixed keys of the benchmark servers. Fixed keys let
// a server restart without invalidating the load generator's cookies;
// they protect nothing.
func secret(purpose string) []byte {
	sum := sha256.Sum256([]byte("keycard bench " + purpose))
	return sum[:]
}

// An Impl is one implementation of the four routes.
type Impl struct {
	Name    string       // "keycard-memory", "scs-redis", ...
	Handler http.Handler // the routes, wrapped in the library's middleware
	closers []func()
}

// Close releases the implementation's connections and goroutines.
func (i *Impl) Close() {
	for _, c := range i.closers {
		c()
	}
}

// sessionOps is what a library supplies to the shared handler.
type sessionOps interface {
	// login regenerates the session's ID and stores user and counter.
	login(w http.ResponseWriter, r *http.Request) error
	// user returns the logged-in user, if any.
	user(w http.ResponseWriter, r *http.Request) (string, bool, error)
	// increment adds one to counter and returns the new value; ok is
	// false without a logged-in session.
	increment(w http.ResponseWriter, r *http.Request) (n int, ok bool, err error)
}

// routes is the handler every implementation serves.
func routes(ops sessionOps) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if err := ops.login(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /read", func(w http.ResponseWriter, r *http.Request) {
		u, ok, err := ops.user(w, r)
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		case !ok:
			http.Error(w, "not logged in", http.StatusUnauthorized)
		default:
			io.WriteString(w, u)
		}
	})
	mux.HandleFunc("GET /write", func(w http.ResponseWriter, r *http.Request) {
		n, ok, err := ops.increment(w, r)
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		case !ok:
			http.Error(w, "not logged in", http.StatusUnauthorized)
		default:
			var buf [20]byte
			w.Write(strconv.AppendInt(buf[:0], int64(n), 10))
		}
	})
	return mux
}

// bare answers like a logged-in session without any session library: the
// ceiling every implementation is measured against.
type bare struct{}

func (bare) login(http.ResponseWriter, *http.Request) error { return nil }
func (bare) user(http.ResponseWriter, *http.Request) (string, bool, error) {
	return User, true, nil
}
func (bare) increment(http.ResponseWriter, *http.Request) (int, bool, error) { return 1, true, nil }

// NewBare returns the routes served by a bare net/http handler, with no
// sessions: /read answers "bench" and /write "1" to everyone.
func NewBare() *Impl {
	return &Impl{Name: "bare", Handler: routes(bare{})}
}

// bareHeaders is the bare handler whose /read and /write responses carry
// the two headers every session library must put on a personal response:
// Vary: Cookie, so that no cache serves one user's page to another, and
// Cache-Control: no-store, so that none keeps it (Keycard sets both
// whenever a handler used a signed-in session). Over HTTP they are not
// free: once a handler has touched the header map, net/http clones it and
// writes the headers sorted. bareHeaders is the floor for a session
// library whose personal responses carry them (the least such a request
// can cost, the most requests/s it can reach); the distance from bare to
// it is the part of a library's gap to bare that is the headers.
type bareHeaders struct{ bare }

// varyCookie and noStore are the two header values, shared by every
// response, with a capacity equal to their length so that an append by
// anyone copies them: the least a middleware can spend on setting them.
var (
	varyCookie = []string{"Cookie"}
	noStore    = []string{"no-store"}
)

// personal sets the two headers as a session middleware does: in the
// response's header map, before the body.
func personal(w http.ResponseWriter) {
	h := w.Header()
	h["Vary"] = varyCookie
	h["Cache-Control"] = noStore
}

func (b bareHeaders) user(w http.ResponseWriter, r *http.Request) (string, bool, error) {
	personal(w)
	return b.bare.user(w, r)
}

func (b bareHeaders) increment(w http.ResponseWriter, r *http.Request) (int, bool, error) {
	personal(w)
	return b.bare.increment(w, r)
}

// NewBareHeaders returns the bare routes whose /read and /write responses
// also carry Vary: Cookie and Cache-Control: no-store.
func NewBareHeaders(name string) *Impl {
	return &Impl{Name: name, Handler: routes(bareHeaders{})}
}

// perRequest is the per-request state of a context-passing middleware,
// the size of Keycard's Session (512 bytes), which also serves as the
// request's context: one allocation, as Keycard's is.
type perRequest struct {
	context.Context
	_ [512 - 16]byte
}

type perRequestKey struct{}

// Value returns p for perRequestKey, else the parent's value.
func (p *perRequest) Value(key any) any {
	if key == (perRequestKey{}) {
		return p
	}
	return p.Context.Value(key)
}

// needState looks up the perRequest of bare-context's middleware, as a
// handler behind a session middleware looks up its session, and fails
// without it.
func needState(r *http.Request) error {
	if _, ok := r.Context().Value(perRequestKey{}).(*perRequest); !ok {
		return errors.New("no per-request state")
	}
	return nil
}

// bareContext is bare-headers behind a middleware that gives each request
// a perRequest in a copy of the request (Request.WithContext), which /read
// and /write look up: what any middleware that carries per-request state
// in the context costs, before it does any work of its own.
type bareContext struct{ bareHeaders }

func (b bareContext) user(w http.ResponseWriter, r *http.Request) (string, bool, error) {
	if err := needState(r); err != nil {
		return "", false, err
	}
	return b.bareHeaders.user(w, r)
}

func (b bareContext) increment(w http.ResponseWriter, r *http.Request) (int, bool, error) {
	if err := needState(r); err != nil {
		return 0, false, err
	}
	return b.bareHeaders.increment(w, r)
}

// NewBareContext returns bare-headers behind a middleware that puts a
// 512-byte per-request state in each request's context.
func NewBareContext(name string) *Impl {
	return &Impl{Name: name, Handler: withState(routes(bareContext{}))}
}

// withState is the middleware of bare-context: it serves each request to
// h with a new perRequest in a copy of the request.
func withState(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(&perRequest{Context: r.Context()}))
	})
}

// bareGet is the bare handler plus one Redis GET per /read, through the
// rueidis client Keycard's Redis store uses: the floor for a Redis-backed
// read.
type bareGet struct {
	bare
	c   rueidis.Client
	key string
}

func (b bareGet) user(w http.ResponseWriter, r *http.Request) (string, bool, error) {
	v, err := b.c.Do(r.Context(), b.c.B().Get().Key(b.key).Build()).ToString()
	if err != nil {
		return "", false, err
	}
	return User, v != "", nil
}

// RecordSize is the length of the value NewBareRedisGet reads: about what
// Keycard's Redis store keeps for a logged-in benchmark session.
const RecordSize = 300

// NewBareRedisGet returns the bare routes whose /read also GETs one
// RecordSize-byte value from the Redis at addr (stored under prefix).
func NewBareRedisGet(name, addr, prefix string) (*Impl, error) {
	g, err := newBareGet(addr, prefix)
	if err != nil {
		return nil, err
	}
	return &Impl{Name: name, Handler: routes(g), closers: []func(){g.c.Close}}, nil
}

// newBareGet connects to the Redis at addr and stores the value a bareGet
// reads, under prefix.
func newBareGet(addr, prefix string) (bareGet, error) {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}})
	if err != nil {
		return bareGet{}, err
	}
	key := prefix + "record"
	value := strings.Repeat("k", RecordSize)
	if err := c.Do(context.Background(), c.B().Set().Key(key).Value(value).ExSeconds(3600).Build()).Error(); err != nil {
		c.Close()
		return bareGet{}, err
	}
	return bareGet{c: c, key: key}, nil
}

// bareContextGet is bare + one GET behind bare-context's middleware, with
// the cache headers on /read: the floor of a Redis-backed read by a
// session middleware, which bare + one GET alone is not (it sets no
// header and carries no state), as bare-context is for a read from
// memory.
type bareContextGet struct{ bareGet }

func (b bareContextGet) user(w http.ResponseWriter, r *http.Request) (string, bool, error) {
	if err := needState(r); err != nil {
		return "", false, err
	}
	personal(w)
	return b.bareGet.user(w, r)
}

// NewBareContextRedisGet returns bare + one GET (NewBareRedisGet) behind
// bare-context's middleware, whose /read answers carry the cache headers.
func NewBareContextRedisGet(name, addr, prefix string) (*Impl, error) {
	g, err := newBareGet(addr, prefix)
	if err != nil {
		return nil, err
	}
	return &Impl{Name: name, Handler: withState(routes(bareContextGet{g})), closers: []func(){g.c.Close}}, nil
}

// keycardOps uses Keycard: Login (which renews the ID, binds the user and
// records the client), Get, and the atomic Update.
type keycardOps struct{ m *keycard.Manager }

func (k keycardOps) login(w http.ResponseWriter, r *http.Request) error {
	s := keycard.FromContext(r.Context())
	// Values first: Login's save then writes them, and the commit has
	// nothing left to save.
	if err := s.Put("user", User); err != nil {
		return err
	}
	if err := s.Put("counter", 0); err != nil {
		return err
	}
	return k.m.Login(r.Context(), s, User)
}

func (keycardOps) user(w http.ResponseWriter, r *http.Request) (string, bool, error) {
	s := keycard.FromContext(r.Context())
	u, ok := keycard.Get[string](s, "user")
	return u, ok, nil // a failed load makes the middleware answer 503
}

func (keycardOps) increment(w http.ResponseWriter, r *http.Request) (int, bool, error) {
	s := keycard.FromContext(r.Context())
	if _, ok := keycard.Get[string](s, "user"); !ok {
		return 0, false, nil
	}
	n, err := keycard.Update(r.Context(), s, "counter", func(n int) int { return n + 1 })
	return n, err == nil, err
}

// NewKeycard returns the routes served by Keycard with st, or with its
// default memory store if st is nil. The configuration is the zero Config
// (secure cookie, 30-minute idle and 8-hour absolute timeouts, the default
// slog event hook) plus a fixed signing key.
func NewKeycard(name string, st store.Store) (*Impl, error) {
	return newKeycard(name, keycard.Config{Store: st})
}

// NewKeycardSealed returns the routes served by Keycard with sealed
// sessions (AES-256-GCM cookies, no store): the counterpart of gorilla's
// cookie store.
func NewKeycardSealed(name string) (*Impl, error) {
	return newKeycard(name, keycard.Config{Sealed: true})
}

func newKeycard(name string, cfg keycard.Config) (*Impl, error) {
	cfg.Keys = []keycard.Key{secret("keycard")}
	m, err := keycard.New(cfg)
	if err != nil {
		return nil, err
	}
	return &Impl{Name: name, Handler: m.Handler(routes(keycardOps{m}))}, nil
}

// KeycardRedisStore returns Keycard's Redis store on a new rueidis client
// for addr, with keys under prefix, and a function that closes the client.
func KeycardRedisStore(addr, prefix string) (store.Store, func(), error) {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}})
	if err != nil {
		return nil, nil, err
	}
	return kredis.New(c, kredis.Config{Prefix: prefix}), c.Close, nil
}

// NewKeycardRedis returns the routes served by Keycard with its Redis store
// (rueidis client) at addr, keys under prefix.
func NewKeycardRedis(name, addr, prefix string) (*Impl, error) {
	st, closeClient, err := KeycardRedisStore(addr, prefix)
	if err != nil {
		return nil, err
	}
	impl, err := NewKeycard(name, st)
	if err != nil {
		closeClient()
		return nil, err
	}
	impl.closers = append(impl.closers, closeClient)
	return impl, nil
}

// NewKeycardSQLite returns the routes served by Keycard with its SQLite
// store on the database file at path, which sqlite.Open creates if need
// be, with the store's default Config.
func NewKeycardSQLite(name, path string) (*Impl, error) {
	st, err := sqlite.Open(path, sqlite.Config{})
	if err != nil {
		return nil, err
	}
	impl, err := NewKeycard(name, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	impl.closers = append(impl.closers, func() { st.Close() })
	return impl, nil
}

// scsOps uses scs: RenewToken, then Get/Put. scs has no atomic update, so
// /write is a read-modify-write that concurrent requests can lose.
type scsOps struct{ sm *scs.SessionManager }

func (o scsOps) login(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := o.sm.RenewToken(ctx); err != nil {
		return err
	}
	o.sm.Put(ctx, "user", User)
	o.sm.Put(ctx, "counter", 0)
	return nil
}

func (o scsOps) user(w http.ResponseWriter, r *http.Request) (string, bool, error) {
	u := o.sm.GetString(r.Context(), "user")
	return u, u != "", nil
}

func (o scsOps) increment(w http.ResponseWriter, r *http.Request) (int, bool, error) {
	ctx := r.Context()
	if !o.sm.Exists(ctx, "user") {
		return 0, false, nil
	}
	n := o.sm.GetInt(ctx, "counter") + 1
	o.sm.Put(ctx, "counter", n)
	return n, true, nil
}

// NewSCS returns the routes served by scs with st (its memstore if nil).
// The configuration is scs.New's, with the cookie Secure (as the scs
// documentation advises for production), SameSite Lax, and an 8-hour
// Lifetime like Keycard's absolute timeout. IdleTimeout stays 0 (off), its
// default: with it set, scs marks every session modified on load and so
// writes the store and sets the cookie on every request, reads included.
func NewSCS(name string, st scs.Store) *Impl {
	impl := &Impl{Name: name}
	if st == nil {
		// memstore.New starts a cleanup goroutine. It is never stopped:
		// MemStore.StopCleanup races with the goroutine's start (scs
		// v2.9.0, found by go test -race here).
		st = memstore.New()
	}
	sm := scs.New()
	sm.Store = st
	sm.Lifetime = 8 * time.Hour
	sm.Cookie.Secure = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	impl.Handler = sm.LoadAndSave(routes(scsOps{sm}))
	return impl
}

// NewSCSRedis returns the routes served by scs with its go-redis store
// (goredisstore) at addr, keys under prefix.
func NewSCSRedis(name, addr, prefix string) *Impl {
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	impl := NewSCS(name, goredisstore.NewWithPrefix(c, prefix))
	impl.closers = append(impl.closers, func() { c.Close() })
	return impl
}

// scsSQLiteSchema is the table and index sqlite3store's README says to
// create; the store creates neither.
const scsSQLiteSchema = `
CREATE TABLE IF NOT EXISTS sessions (
	token TEXT PRIMARY KEY,
	data BLOB NOT NULL,
	expiry REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions(expiry);`

// SCSSQLiteStore returns scs's SQLite store (sqlite3store.New: expired
// sessions deleted every 5 minutes) on the database file at path, opened
// by openSQLite, with the sessions table and index of sqlite3store's
// README, which it creates if need be, and a function that stops the
// cleanup and closes the database.
func SCSSQLiteStore(path string) (*sqlite3store.SQLite3Store, func(), error) {
	db, err := openSQLite(path)
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.Exec(scsSQLiteSchema); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("scs sqlite %s: %w", path, err)
	}
	st := sqlite3store.New(db)
	return st, func() {
		st.StopCleanup()
		db.Close()
	}, nil
}

// openSQLite opens, or creates, the SQLite database file at path as
// Keycard's sqlite.Open opens its own, so that a comparison of a peer's
// SQLite store with keycard-sqlite measures the libraries, not the
// driver's settings: the "sqlite" driver of modernc.org/sqlite, the DSN of
// sqlite.DSN with the default Config (write-ahead logging,
// synchronous=NORMAL and a 5-second busy timeout on every connection),
// max(4, GOMAXPROCS) open and idle connections, and a check that the
// journal mode is WAL. sqlite3store's README uses mattn/go-sqlite3, which
// needs cgo; the store's SQL runs unchanged on either driver.
func openSQLite(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", sqlite.DSN(path, sqlite.Config{}))
	if err != nil {
		return nil, err
	}
	conns := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	var mode string
	err = db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if err == nil && mode != "wal" {
		err = fmt.Errorf("journal mode is %q, not wal", mode)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// NewSCSSQLite returns the routes served by scs, configured as NewSCS
// configures it, with its SQLite store (sqlite3store) on the database file
// at path; see SCSSQLiteStore and openSQLite for how the database is
// opened. sqlite3store saves with one REPLACE statement and queues nothing
// itself: concurrent saves wait for SQLite's write lock in its busy
// handler, which sleeps between tries, where Keycard's store queues the
// writers of its *sql.DB and admits the next as soon as the lock is free.
func NewSCSSQLite(name, path string) (*Impl, error) {
	st, closeStore, err := SCSSQLiteStore(path)
	if err != nil {
		return nil, err
	}
	impl := NewSCS(name, st)
	impl.closers = append(impl.closers, closeStore)
	return impl, nil
}

// gorillaOps uses gorilla/sessions through any of its stores.
type gorillaOps struct {
	st   sessions.Store
	opts sessions.Options // the store's default options
}

// gorillaCookie is the session's name, and so its cookie's.
const gorillaCookie = "session"

// session returns the request's session; a cookie that does not decode
// gives a new session and an error, which gorilla's docs say to ignore.
func (o gorillaOps) session(r *http.Request) (*sessions.Session, error) {
	sess, err := o.st.Get(r, gorillaCookie)
	if sess != nil {
		return sess, nil
	}
	return nil, err
}

// login replaces the session by a new one. gorilla/sessions has no
// regenerate: for a server-side store the old record is deleted the
// documented way (MaxAge -1 and Save, which also expires the cookie) and a
// new session, with a new ID, is saved; for the cookie store there is no
// ID, so the new values simply replace the cookie.
func (o gorillaOps) login(w http.ResponseWriter, r *http.Request) error {
	old, err := o.session(r)
	if err != nil {
		return err
	}
	if _, server := o.st.(*redistore.RediStore); server && !old.IsNew {
		old.Options.MaxAge = -1
		if err := old.Save(r, w); err != nil {
			return err
		}
	}
	sess := sessions.NewSession(o.st, gorillaCookie)
	opts := o.opts
	sess.Options = &opts
	sess.IsNew = true
	sess.Values["user"] = User
	sess.Values["counter"] = 0
	return sess.Save(r, w)
}

func (o gorillaOps) user(w http.ResponseWriter, r *http.Request) (string, bool, error) {
	sess, err := o.session(r)
	if err != nil {
		return "", false, err
	}
	u, ok := sess.Values["user"].(string)
	return u, ok, nil
}

func (o gorillaOps) increment(w http.ResponseWriter, r *http.Request) (int, bool, error) {
	sess, err := o.session(r)
	if err != nil {
		return 0, false, err
	}
	if _, ok := sess.Values["user"].(string); !ok {
		return 0, false, nil
	}
	n, _ := sess.Values["counter"].(int)
	n++
	sess.Values["counter"] = n
	return n, true, sess.Save(r, w)
}

// gorillaOptions are the cookie attributes gorilla's docs advise for
// production: HttpOnly, Secure, SameSite Lax.
func gorillaOptions(o *sessions.Options) {
	o.HttpOnly = true
	o.Secure = true
	o.SameSite = http.SameSiteLaxMode
}

// NewGorillaCookie returns the routes served by gorilla/sessions with its
// CookieStore, made as its README does: one 32-byte authentication key
// (HMAC-SHA256 over gob), no encryption key.
func NewGorillaCookie(name string) *Impl {
	st := sessions.NewCookieStore(secret("gorilla"))
	gorillaOptions(st.Options)
	return &Impl{Name: name, Handler: routes(gorillaOps{st: st, opts: *st.Options})}
}

// NewGorillaRedis returns the routes served by gorilla/sessions with
// github.com/boj/redistore (redigo), made with NewRediStore as its README
// does: a pool of 10 idle connections that PINGs each connection it lends
// (redistore's TestOnBorrow), gob values, and keys under prefix.
func NewGorillaRedis(name, addr, prefix string) (*Impl, error) {
	st, err := redistore.NewRediStore(10, "tcp", addr, "", "", secret("gorilla"))
	if err != nil {
		return nil, err
	}
	st.SetKeyPrefix(prefix)
	gorillaOptions(st.Options)
	return &Impl{
		Name:    name,
		Handler: routes(gorillaOps{st: st, opts: *st.Options}),
		closers: []func(){func() { st.Close() }},
	}, nil
}

// Names lists the implementations New makes, in the order of the tables:
// the ceilings (bare, bare with the cache headers, and that behind a
// middleware that carries per-request state) and those of a Redis read
// (bare + one GET, and that behind the same middleware, with the
// headers), then each library with memory (or cookies), then with
// SQLite, then with Redis.
var Names = []string{
	"bare", "bare-headers", "bare-context", "bare-redisget", "bare-context-redisget",
	"keycard-memory", "scs-memory", "gorilla-cookie", "keycard-sealed",
	"keycard-sqlite", "scs-sqlite",
	"keycard-redis", "scs-redis", "gorilla-redis",
}

// needsSQLite reports whether the implementation name uses an SQLite
// database file.
func needsSQLite(name string) bool {
	return name == "keycard-sqlite" || name == "scs-sqlite"
}

// New makes the implementation called name; Redis-backed ones use the
// server at redisAddr with keys under prefix, SQLite-backed ones the
// database file at sqlitePath.
func New(name, redisAddr, prefix, sqlitePath string) (*Impl, error) {
	if needsSQLite(name) && sqlitePath == "" {
		return nil, errors.New(name + " needs the path of an SQLite database file")
	}
	switch name {
	case "bare":
		return NewBare(), nil
	case "bare-headers":
		return NewBareHeaders(name), nil
	case "bare-context":
		return NewBareContext(name), nil
	case "bare-redisget":
		return NewBareRedisGet(name, redisAddr, prefix+"bare:")
	case "bare-context-redisget":
		return NewBareContextRedisGet(name, redisAddr, prefix+"bare:")
	case "keycard-memory":
		return NewKeycard(name, nil)
	case "keycard-sealed":
		return NewKeycardSealed(name)
	case "scs-memory":
		return NewSCS(name, nil), nil
	case "gorilla-cookie":
		return NewGorillaCookie(name), nil
	case "keycard-sqlite":
		return NewKeycardSQLite(name, sqlitePath)
	case "scs-sqlite":
		return NewSCSSQLite(name, sqlitePath)
	case "keycard-redis":
		return NewKeycardRedis(name, redisAddr, prefix+"keycard:")
	case "scs-redis":
		return NewSCSRedis(name, redisAddr, prefix+"scs:"), nil
	case "gorilla-redis":
		return NewGorillaRedis(name, redisAddr, prefix+"gorilla:")
	}
	return nil, fmt.Errorf("unknown implementation %q", name)
}
