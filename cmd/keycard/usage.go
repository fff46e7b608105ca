package main

// Usage texts, one constant per command. Each is printed as it is by
// "keycard help COMMAND" and "keycard COMMAND --help".

const usage = `Keycard: sessions for Go web services, a demo app and admin tools.

Usage:
    keycard demo [--addr ADDR] [--store URL] [--data DIR] [--keys FILE] [--tls] [-v]
    keycard sessions ls [--user USER] [--json] [--store URL]
    keycard sessions rm [--store URL] HASH...
    keycard revoke --user USER [--store URL]
    keycard gc [--store URL]
    keycard stats [--json] [--store URL]
    keycard migrate --store URL
    keycard keys new [--out FILE] [--force]
    keycard help [COMMAND]

Commands:
    demo           serve the demo web app on http://127.0.0.1:8080
    sessions ls    list live sessions, by hash (never by ID)
    sessions rm    end sessions by hash
    revoke         end every session of a user ("log out everywhere")
    gc             delete expired sessions from the store
    stats          count live sessions: signed in, anonymous, remembered, users
    migrate        create the sessions table of an SQL store
    keys new       generate a key file

Store URLs (--store, or $KEYCARD_STORE; default sqlite:keycard-demo.db, except
for migrate, which needs one named):
    memory:                              in this process only
    sqlite:PATH                          an SQLite database file
    redis://[USER:PASS@]HOST:PORT/DB     Redis; rediss:// for TLS
    postgres://USER:PASS@HOST:PORT/DB    PostgreSQL
    mysql://USER:PASS@HOST:PORT/DB       MySQL or MariaDB
    mysql://USER:PASS@tcp(HOST:PORT)/DB  the same, as a go-sql-driver DSN
    memcached://HOST:PORT[,HOST:PORT]    memcached, one server or several
    mongodb://[USER:PASS@]HOST:PORT/DB   MongoDB or FerretDB; mongodb+srv:// too

What the stores can do:
    memory:, sqlite:, redis://, postgres://, mysql:// and mongodb:// stores can
    do it all: list every session (sessions ls, stats) and find a user's
    sessions with their user index (sessions ls --user, revoke).
    memcached:// stores can do neither: memcached may evict any item and
    cannot list its items, so the store keeps no list of sessions, and
    sessions ls, stats and revoke fail and say so. sessions rm works.
The SQL stores need their table, and MongoDB its indexes: "keycard migrate"
creates them (the demo creates its own). Redis and memcached expire sessions
themselves, with nothing for gc to do; so does MongoDB, through its TTL
index, but FerretDB 1.x has none, and there gc deletes expired sessions.

Environment:
    KEYCARD_STORE      store URL, for --store
    KEYCARD_KEYS_FILE  key file, for --keys
    KEYCARD_DATA       the demo's data directory, for --data
    KEYCARD_ADDR       the demo's listen address, for --addr

Exit status: 0 on success, 1 on failure, 2 for a usage error (an unknown
command or flag, a missing or malformed argument, a malformed store URL).
Run "keycard help COMMAND" for a command's flags.
`

const usageDemo = `Usage:
    keycard demo [--addr ADDR] [--store URL] [--data DIR] [--keys FILE] [--tls] [-v]

Serve the demo web app: a shop whose cart survives signing in, profile and
device pages (revoking a device needs a sign-in within 5 minutes; a live
page whose stream ends with its session), remember-me, failed-login
limits, CSRF-protected forms, a JSON token API, and a page kept in a sealed
cookie. Sign in as alice or bob, or as support, who can act as either
(impersonation); the passwords are on the sign-in page. "Sign in with
OpenID Connect" uses a development OpenID Provider that the demo starts on
a free port of 127.0.0.1 (test-user@local-site / verysecure is alice);
its page /keycard-demo/ sends the demo a back-channel logout. It needs a
store with a user index (not memcached). Visitors who only read pages store no
session; one address may present 30 refused session cookies a minute, and
one network (/32 or /64) start 30 anonymous sessions a minute.

On first run it creates, in the data directory: the SQLite database
keycard-demo.db (mode 0600, like its -wal and -shm files; unless --store
names another store), the key file
keycard-demo.keys (mode 0600), and with --tls a self-signed certificate
keycard-demo-tls.pem for localhost and 127.0.0.1. Later runs reuse them, so
sessions survive restarts.

Flags:
    --addr ADDR   listen address (default 127.0.0.1:8080; $KEYCARD_ADDR)
    --store URL   session store (default sqlite:DATA/keycard-demo.db; $KEYCARD_STORE)
    --data DIR    where the demo keeps its files (default .; $KEYCARD_DATA);
                  created if missing, but its parent must exist
    --keys FILE   key file, created if missing (default DATA/keycard-demo.keys;
                  $KEYCARD_KEYS_FILE)
    --tls         serve HTTPS with a self-signed certificate, and send HSTS
    -v            log every session event, not only warnings and errors

Over plain HTTP, browsers keep the demo's Secure cookies only for localhost
and 127.0.0.1; use --tls to serve other addresses.
`

const usageSessions = `Usage:
    keycard sessions ls [--user USER] [--json] [--store URL]
    keycard sessions rm [--store URL] HASH...

ls lists the live sessions of the store, most recently seen first, by their
hash: the SHA-256 of the session ID, which names a session without being a
credential. Without --user it lists every session; with --user, the
sessions of one user, through the store's user index. memory:, sqlite:,
redis://, postgres://, mysql:// and mongodb:// stores can do both (they
implement store.Scanner and store.UserIndex); memcached:// stores can do
neither, since memcached may evict any item and cannot list its items.

rm ends the sessions with these hashes at once: their next request starts
anonymous. It fails for a hash with no live session.

Flags:
    --user USER   only the sessions of USER
    --json        print a JSON array instead of a table
    --store URL   session store (default sqlite:keycard-demo.db; $KEYCARD_STORE)
`

const usageRevoke = `Usage:
    keycard revoke --user USER [--store URL]

End every session of USER at once ("log out everywhere"), browser sessions
and API tokens alike, and print how many ended. It needs a store with a user
index, which every store has but memcached://: memcached may evict any item,
so a list of a user's sessions could vanish while the sessions stay, and the
memcached store keeps none. There, end sessions one at a time with sessions
rm, or have the application set keycard.Config.RevokedBefore.

Flags:
    --user USER   the user (required)
    --store URL   session store (default sqlite:keycard-demo.db; $KEYCARD_STORE)
`

const usageGC = `Usage:
    keycard gc [--store URL]

Delete expired sessions from the store, in batches, and print how many. Expired
sessions are never served, so this only returns space; run it now and then, say
hourly from cron. Redis and memcached expire sessions themselves and need no
gc; on MongoDB a TTL index deletes them too, and gc only hastens it, but
FerretDB 1.x has no TTL indexes: there, run gc.

Flags:
    --store URL   session store (default sqlite:keycard-demo.db; $KEYCARD_STORE)
`

const usageStats = `Usage:
    keycard stats [--json] [--store URL]

Count the store's live sessions: signed in or anonymous, remembered, and the
distinct users signed in. It needs a store that can list all sessions:
memory:, sqlite:, redis://, postgres://, mysql:// or mongodb://, not
memcached://.

Flags:
    --json        print a JSON object instead of a table
    --store URL   session store (default sqlite:keycard-demo.db; $KEYCARD_STORE)
`

const usageMigrate = `Usage:
    keycard migrate --store URL

Create the schema of an SQL store: its sessions table, keycard_sessions, and
the table's indexes; of a MongoDB store, the indexes of its collection,
keycard_sessions (a TTL index on expire_at where the server has them, which
FerretDB 1.x does not: then migrate says to run gc). For sqlite:PATH it
also creates the database file, in a directory that must exist. It is idempotent: on a store whose table exists it
creates any missing index and changes nothing else, so it is safe to run on
every deploy. memory:, redis:// and memcached:// stores have no schema: it
says there is nothing to migrate, without connecting, and exits 0.

The admin commands (sessions, revoke, gc, stats) never create a table; on an
SQL store that lacks one they fail and point here. The demo creates its own.
Teams that run their own migrations can apply instead the SQL that migrate
runs, which the store package's Schema function returns (sqlite.Schema,
postgres.Schema, mysql.Schema).

Flags:
    --store URL   the store (required, unless $KEYCARD_STORE names it)
`

const usageKeys = `Usage:
    keycard keys new [--out FILE] [--force]

Generate a key file: a session key (signs cookies), a refresh key
(authenticates refresh tokens) and an Ed25519 access-token key, 32 random
bytes each. The file is text:

    keycard-keys v1
    # comments
    session KEY      one or more, newest first: the first signs, all verify
    refresh KEY      at most one
    token KID SEED   Ed25519 keys: the first signs

KEY and SEED are unpadded base64url; ';' also ends a line. It is written
with mode 0600, and keycard refuses to read a key file that others may
read. To rotate session keys, add a new session line in front and delete
the old one once its sessions have expired.

An application loads the file with keycard.LoadKeys(path), or its text
from an environment variable with keycard.KeysFromEnv(name):

    export MYAPP_KEYS="$(keycard keys new --out -)"

and passes keys.Session as keycard.Config.Keys; token.KeySetFromFile and
keys.Refresh configure a token Issuer.

Flags:
    --out FILE    where to write (default keycard-demo.keys; $KEYCARD_KEYS_FILE);
                  "-" prints the keys on standard output
    --force       replace an existing file: every session and token signed
                  with the old keys stops working
`
