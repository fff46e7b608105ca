// Package storeurl names Keycard session stores with URLs and opens them:
//
//	memory:                              a memory store, private to the process
//	sqlite:PATH                          an SQLite database file (sqlite:///ABS/PATH too)
//	redis://[USER:PASS@]HOST:PORT/DB     Redis (rediss:// for TLS)
//	postgres://USER:PASS@HOST:PORT/DB    PostgreSQL (postgresql:// too; libpq parameters)
//	mysql://USER:PASS@HOST:PORT/DB       MySQL or MariaDB
//	mysql://USER:PASS@tcp(HOST:PORT)/DB  MySQL or MariaDB, a go-sql-driver DSN
//	memcached://HOST:PORT[,HOST:PORT…]   memcached, one server or several
//	mongodb://[USER:PASS@]HOST:PORT/DB   MongoDB or FerretDB (mongodb+srv:// too)
//
// Each store keeps its default table or key prefix. A URL prints with its
// password masked, so it can go in messages and logs.
package storeurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// Kinds of store.
const (
	Memory    = "memory"
	SQLite    = "sqlite"
	Redis     = "redis"
	Postgres  = "postgres"
	MySQL     = "mysql"
	Memcached = "memcached"
	MongoDB   = "mongodb"
)

// ErrSyntax is wrapped by the errors of Parse.
var ErrSyntax = errors.New("not a store URL")

// A URL names a store. Create one with Parse.
type URL struct {
	// Kind is one of Memory, SQLite, Redis, Postgres, MySQL, Memcached
	// and MongoDB.
	Kind string
	// Path is the database file of an SQLite URL.
	Path string

	raw      string // as given
	redacted string // for display: the password masked
	password string // to scrub from driver errors, or ""

	redis     *rueidis.ClientOption
	pg        *pgxpool.Config
	mysql     *mysql.Config
	memcached []string // HOST:PORT of each server
	mongo     *connstring.ConnString
}

// String returns the URL with its password, if any, masked.
func (u *URL) String() string { return u.redacted }

// Parse parses a store URL. Its errors wrap ErrSyntax and never include a
// password.
func Parse(s string) (*URL, error) {
	u := &URL{raw: s, redacted: s}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" {
		return nil, syntaxError(s, "no scheme; want "+schemes)
	}
	switch strings.ToLower(scheme) {
	case "memory":
		if rest != "" {
			return nil, syntaxError(s, `a memory store takes nothing after "memory:"`)
		}
		u.Kind = Memory
	case "sqlite", "sqlite3":
		u.Kind = SQLite
		rest = strings.TrimPrefix(rest, "//") // sqlite:///abs/path, sqlite://rel.db
		if rest == "" {
			return nil, syntaxError(s, "no database file; want sqlite:PATH")
		}
		u.Path = rest
		u.redacted = "sqlite:" + rest
	case "redis", "rediss", "valkey", "valkeys":
		opt, err := rueidis.ParseURL(s)
		if err != nil {
			return nil, syntaxError(maskURL(s), scrub(err.Error(), passwordOf(s)))
		}
		u.Kind, u.redis, u.password = Redis, &opt, opt.Password
		u.redacted = maskURL(s)
	case "postgres", "postgresql":
		cfg, err := pgxpool.ParseConfig(s)
		if err != nil {
			return nil, syntaxError(maskURL(s), scrub(pgSyntax(err), passwordOf(s)))
		}
		u.Kind, u.pg, u.password = Postgres, cfg, cfg.ConnConfig.Password
		u.redacted = maskURL(s)
	case "mysql", "mariadb":
		cfg, err := parseMySQL(rest)
		if err != nil {
			return nil, syntaxError(scheme+"://…", scrub(err.Error(), passwordOf(s)))
		}
		u.Kind, u.mysql, u.password = MySQL, cfg, cfg.Passwd
		shown := cfg.Clone()
		if shown.Passwd != "" {
			shown.Passwd = "xxxxx"
		}
		u.redacted = "mysql://" + shown.FormatDSN()
	case "memcached", "memcache":
		addrs, err := parseMemcached(rest)
		if err != nil {
			shown := s
			if strings.Contains(s, "@") {
				shown = maskURL(s)
			}
			return nil, syntaxError(shown, err.Error())
		}
		u.Kind, u.memcached = Memcached, addrs
		u.redacted = "memcached://" + strings.Join(addrs, ",")
	case "mongodb", "mongodb+srv":
		cs, err := connstring.ParseAndValidate(s)
		if err != nil {
			return nil, syntaxError(maskURL(s), scrub(err.Error(), passwordOf(s)))
		}
		if cs.Database == "" {
			return nil, syntaxError(maskURL(s), "no database; want mongodb://HOST:PORT/DB")
		}
		u.Kind, u.mongo, u.password = MongoDB, cs, cs.Password
		u.redacted = maskURL(s)
	default:
		hint := "want " + schemes
		if len(scheme) == 1 { // C:\path on Windows
			hint = "want sqlite:PATH for a database file"
		}
		return nil, syntaxError(s, fmt.Sprintf("unknown scheme %q; %s", scheme, hint))
	}
	return u, nil
}

// schemes lists the forms of store URLs, for errors.
const schemes = "memory:, sqlite:PATH, redis://, postgres://, mysql://, memcached:// or mongodb://"

// DefaultMemcachedPort is the port of a memcached URL's server that names
// none.
const DefaultMemcachedPort = "11211"

// parseMemcached reads "//HOST:PORT,HOST:PORT..." and returns each
// server's HOST:PORT, with the default port where none is given.
// memcached has no databases and the client no authentication, so a URL
// with a user, a path or parameters is refused rather than half obeyed.
func parseMemcached(rest string) ([]string, error) {
	rest, ok := strings.CutPrefix(rest, "//")
	if !ok {
		return nil, errors.New("want memcached://HOST:PORT")
	}
	rest = strings.TrimSuffix(rest, "/")
	switch {
	case rest == "":
		return nil, errors.New("no server; want memcached://HOST:PORT")
	case strings.Contains(rest, "@"):
		return nil, errors.New("memcached takes no user or password")
	case strings.ContainsAny(rest, "/?#"):
		return nil, errors.New("memcached takes no database or parameters; want memcached://HOST:PORT[,HOST:PORT...]")
	}
	var addrs []string
	for server := range strings.SplitSeq(rest, ",") {
		host, port, err := net.SplitHostPort(server)
		if err != nil {
			// No port: a host name, an IPv4 address or an IPv6 address
			// in brackets, whose colons would otherwise hide a port.
			host, port = server, DefaultMemcachedPort
			if inner, ok := strings.CutPrefix(server, "["); ok {
				host, _ = strings.CutSuffix(inner, "]")
			} else if strings.Contains(server, ":") {
				return nil, fmt.Errorf("bad server %q; want HOST:PORT, with an IPv6 address in brackets", server)
			}
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", port)
		}
		if host == "" || strings.ContainsAny(host, "[]") || strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return nil, fmt.Errorf("bad server %q; want HOST:PORT", server)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	return addrs, nil
}

// parseMySQL reads "//USER:PASS@HOST:PORT/DB?PARAMS" (URL form) or
// "//USER:PASS@tcp(HOST:PORT)/DB?PARAMS" (a go-sql-driver DSN).
func parseMySQL(rest string) (*mysql.Config, error) {
	rest, ok := strings.CutPrefix(rest, "//")
	if !ok {
		return nil, errors.New("want mysql://USER:PASS@HOST:PORT/DB")
	}
	if strings.Contains(rest, "(") {
		cfg, err := mysql.ParseDSN(rest)
		if err != nil {
			return nil, err
		}
		if cfg.DBName == "" {
			return nil, errors.New("no database name")
		}
		return cfg, nil
	}
	pu, err := url.Parse("mysql://" + rest)
	if err != nil {
		return nil, errors.New("malformed URL")
	}
	if pu.Host == "" {
		return nil, errors.New("no host")
	}
	db := strings.TrimPrefix(pu.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, errors.New("want one database name after the host, as in mysql://USER@HOST:3306/DB")
	}
	host, port := pu.Hostname(), pu.Port()
	if port == "" {
		port = "3306"
	}
	dsn := "tcp(" + net.JoinHostPort(host, port) + ")/" + db
	if pu.RawQuery != "" {
		dsn += "?" + pu.RawQuery
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if pu.User != nil {
		cfg.User = pu.User.Username()
		cfg.Passwd, _ = pu.User.Password()
	}
	return cfg, nil
}

// pgSyntax shortens pgx's parse errors, which quote the whole URL.
func pgSyntax(err error) string {
	msg := err.Error()
	// "cannot parse `URL`: WHY", the URL masked: WHY alone.
	if strings.HasPrefix(msg, "cannot parse `") {
		if _, why, ok := strings.Cut(msg, "`: "); ok {
			return why
		}
	}
	return msg
}

func maskURL(s string) string {
	pu, err := url.Parse(s)
	if err != nil {
		// Mask the password of SCHEME://USER:PASS@REST by hand.
		scheme, rest, ok := strings.Cut(s, "://")
		at := strings.LastIndex(rest, "@")
		if !ok || at < 0 {
			if strings.Contains(s, "@") {
				return "(a URL that does not parse)"
			}
			return s
		}
		if user, _, ok := strings.Cut(rest[:at], ":"); ok {
			return scheme + "://" + user + ":xxxxx" + rest[at:]
		}
		return s
	}
	return pu.Redacted()
}

func passwordOf(s string) string {
	if pu, err := url.Parse(s); err == nil && pu.User != nil {
		p, _ := pu.User.Password()
		return p
	}
	// A DSN: USER:PASS@...
	if at := strings.LastIndex(s, "@"); at >= 0 {
		cred := s[:at]
		if i := strings.LastIndex(cred, "//"); i >= 0 {
			cred = cred[i+2:]
		}
		if _, p, ok := strings.Cut(cred, ":"); ok {
			return p
		}
	}
	return ""
}

// scrub removes password from msg.
func scrub(msg, password string) string {
	if len(password) >= 3 {
		msg = strings.ReplaceAll(msg, password, "xxxxx")
	}
	return msg
}

func syntaxError(shown, why string) error {
	return fmt.Errorf("%w: %s: %s", ErrSyntax, shown, why)
}

// HasPassword reports whether the URL as given holds a password, which
// String masks.
func (u *URL) HasPassword() bool { return passwordOf(u.raw) != "" }

// Addr returns the address of the store's server, HOST:PORT or a socket's
// path, or "" for a store without a server.
func (u *URL) Addr() string {
	switch {
	case u.pg != nil:
		c := u.pg.ConnConfig
		if strings.HasPrefix(c.Host, "/") {
			return c.Host
		}
		return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
	case u.mysql != nil:
		return u.mysql.Addr
	case u.redis != nil && len(u.redis.InitAddress) > 0:
		return u.redis.InitAddress[0]
	case len(u.memcached) > 0:
		return u.memcached[0]
	case u.mongo != nil && len(u.mongo.Hosts) > 0:
		return u.mongo.Hosts[0]
	}
	return ""
}

// Database returns the name of the database on the store's server, or
// "".
func (u *URL) Database() string {
	switch {
	case u.pg != nil:
		return u.pg.ConnConfig.Database
	case u.mysql != nil:
		return u.mysql.DBName
	case u.mongo != nil:
		return u.mongo.Database
	}
	return ""
}

// User returns the user name with which the store's server is reached,
// or "".
func (u *URL) User() string {
	switch {
	case u.pg != nil:
		return u.pg.ConnConfig.User
	case u.mysql != nil:
		return u.mysql.User
	case u.redis != nil:
		return u.redis.Username
	case u.mongo != nil:
		return u.mongo.Username
	}
	return ""
}
