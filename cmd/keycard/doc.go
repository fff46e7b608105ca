// Command keycard serves Keycard's demo web app and administers the
// sessions of any Keycard store.
//
//	go run ./cmd/keycard demo     # then open http://127.0.0.1:8080
//
// # Commands
//
//	keycard demo [--addr ADDR] [--store URL] [--data DIR] [--keys FILE] [--tls] [-v]
//	keycard sessions ls [--user USER] [--json] [--store URL]
//	keycard sessions rm [--store URL] HASH...
//	keycard revoke --user USER [--store URL]
//	keycard gc [--store URL]
//	keycard stats [--json] [--store URL]
//	keycard migrate --store URL
//	keycard keys new [--out FILE] [--force]
//	keycard help [COMMAND]
//
// Every command takes --help. Flags may come before or after operands.
// Results go to standard output; errors go to standard error as one line
// "keycard: error: ...", followed by "keycard: hint: ..." lines.
//
// demo serves the demo web app on 127.0.0.1:8080: a shop whose anonymous
// cart survives signing in (the session ID changes, the data stays),
// remember-me, failed-login limits (package guard), a profile page with the
// session's deadlines, a devices page with per-session revocation and "log
// out everywhere", CSRF protection on every form (package csrf), a JSON
// token API (package token: POST /api/token, POST /api/refresh, GET
// /api/me, POST /api/logout, GET /.well-known/jwks.json), and a page whose
// session lives entirely in a sealed cookie (keycard.Config.Sealed). The
// demo accounts are alice (password alice-wonderland) and bob
// (bob-can-fix-it), and the support user support (support-on-duty), who
// may act as a customer for 15 minutes (keycard.Manager.Impersonate). On
// first run it creates, in the data directory (--data,
// default the current directory): the SQLite database keycard-demo.db, the
// key file keycard-demo.keys, and with --tls a self-signed ECDSA
// certificate for localhost, 127.0.0.1 and ::1, keycard-demo-tls.pem; later
// runs reuse them, so sessions survive restarts. It creates the data
// directory if its parent exists, but no missing ancestors: a --data whose
// parent does not exist is a usage error. With --tls every response
// carries Strict-Transport-Security, with a max-age of five minutes:
// browsers apply HSTS to a host name on every port, and a long one for
// localhost would force HTTPS on the machine's other development servers.
// Over plain HTTP the demo works on localhost and 127.0.0.1, which browsers
// treat as secure for the demo's __Host- Secure cookies. The database and
// its -wal and -shm files are made readable by their owner alone (0600),
// also in a data directory that existed before. Its anonymous pages, the
// sign-in page included, store no session until the cart gets an item
// (their forms' tokens are bound to the csrf visitor cookie); refused
// session cookies are limited to 30 a minute per address
// (keycard.Config.MaxRejectsPerMinute), new anonymous sessions to 30 a
// minute per network (keycard.Config.Visitors), whose carts expire after
// 15 idle minutes; failed sign-ins are counted per account and network
// (package guard), so nobody can lock a user out.
//
// sessions ls lists live sessions by hash (the SHA-256 of the session ID,
// which names a session without being a credential; IDs are never shown),
// most recently seen first, as a table or, with --json, a JSON array.
// Without --user it needs a store that implements store.Scanner, as the
// memory, SQLite, Redis, PostgreSQL, MySQL and MongoDB stores do; with
// --user, one that implements store.UserIndex, as they all do too. The memcached
// store does neither: memcached may evict any item and cannot list its
// items, so the store keeps no list of sessions, and ls, stats and revoke
// fail on it with an error that says so and a hint (sessions rm, or
// keycard.Config.RevokedBefore in the application). sessions rm ends sessions
// by hash and fails for a hash with no live session. revoke ends every
// session of a user. gc deletes expired sessions (store.Sweeper), showing
// a spinner on a terminal. stats counts live sessions: signed in,
// anonymous, remembered, and distinct users (store.Scanner). migrate
// creates the schema of an SQL store: the table keycard_sessions and its
// indexes (and for SQLite the database file, in a directory that exists);
// of a MongoDB store, the indexes of the collection keycard_sessions (and
// it says when the server has no TTL indexes, as FerretDB 1.x has not, so
// that gc must delete expired sessions).
// It is idempotent, safe to run on every deploy, and needs --store or
// $KEYCARD_STORE; for memory:, redis:// and memcached:// it says there is
// nothing to migrate, without connecting, and exits 0. keys new
// writes a new key file with mode 0600, refusing to replace one without
// --force, and prints keys only with --out -.
//
// # Store URLs
//
//	memory:                              a memory store, private to the process
//	sqlite:PATH                          an SQLite database file (sqlite:///ABS/PATH too)
//	redis://[USER:PASS@]HOST:PORT/DB     Redis; rediss:// for TLS
//	postgres://USER:PASS@HOST:PORT/DB    PostgreSQL, with libpq's URL parameters
//	mysql://USER:PASS@HOST:PORT/DB       MySQL or MariaDB
//	mysql://USER:PASS@tcp(HOST:PORT)/DB  the same, as a go-sql-driver DSN
//	memcached://HOST:PORT[,HOST:PORT]    memcached, one server or several (port 11211 by default)
//	mongodb://[USER:PASS@]HOST:PORT/DB   MongoDB or FerretDB, in database DB; mongodb+srv:// too
//
// The admin commands default to sqlite:keycard-demo.db and never create a
// database or a table: on an SQL store without the sessions table they
// fail with a hint to run keycard migrate, which creates it; the demo
// creates its own database and table. Stores are reached within 5 seconds
// or not at all. URLs are printed with their password masked.
//
// Each failure's hint names its cause, as the driver reports it
// (PostgreSQL's SQLSTATE, MySQL's error number, SQLite's result code):
// a server that refuses connections or does not answer, a host name that
// does not resolve, a refused user or password, a missing database, a
// missing table, a user without privileges, an SQLite file that is not a
// database or is corrupt, a file keycard may not write.
//
// # Environment
//
//	KEYCARD_STORE      store URL, when --store is not given
//	KEYCARD_KEYS_FILE  key file, when --keys (demo) or --out (keys new) is not given
//	KEYCARD_DATA       the demo's data directory, when --data is not given
//	KEYCARD_ADDR       the demo's listen address, when --addr is not given
//
// # Key files
//
// A key file holds the secrets that sign session cookies and tokens, so
// that sessions survive restarts and every instance of an application
// shares them. It is text. The first line is "keycard-keys v1"; after it,
// blank lines and lines starting with '#' are ignored, and each other line
// is a kind and its fields:
//
//	session KEY      signs session cookies, sealed ones too; one or more,
//	                 newest first: the first signs, every one verifies
//	refresh KEY      authenticates refresh tokens; at most one
//	token KID SEED   an Ed25519 access-token key with key ID KID
//	                 ([A-Za-z0-9._-], at most 64 characters): the first
//	                 signs, the others verify tokens they signed
//
// KEY and SEED are 32 random bytes in unpadded base64url (43 characters);
// ';' also ends a line. keycard writes key files with mode 0600 and
// refuses to read one that its group or others may read. To rotate
// session keys, add a new session line in front and delete the old one
// once its sessions have expired. "keys new" writes one key of each kind,
// and the demo needs all three. Applications read the same file with
// keycard.LoadKeys (the format is documented on keycard.KeyFile).
//
// # Exit status
//
// 0 on success, 1 on failure (an unreachable or unusable store, a
// missing session, a store without a needed capability), 2 for a usage
// error: an unknown command, subcommand or flag, a missing, empty or
// malformed argument or flag value, a malformed store URL or one of an
// unknown scheme (from --store or $KEYCARD_STORE), a bad --addr, or a
// --data directory whose parent does not exist. Each usage error says
// what is accepted.
package main
