module github.com/keycard-go/keycard/bench

go 1.25.0

require (
	github.com/alexedwards/scs/goredisstore v0.0.0-20250212122300-421ef1d8611c
	github.com/alexedwards/scs/sqlite3store v0.0.0-20251002162104-209de6e426de
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/boj/redistore v1.4.1
	github.com/go-sql-driver/mysql v1.10.1
	github.com/gorilla/sessions v1.4.0
	github.com/jackc/pgx/v5 v5.12.0
	github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/mysql v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/postgres v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/redis v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/sqlite v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.22.0
	github.com/redis/rueidis v1.0.79
	golang.org/x/image v0.45.0
	golang.org/x/sys v0.47.0
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/fxamacker/cbor/v2 v2.9.6 // indirect
	github.com/gomodule/redigo v1.9.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/x448/float16 v0.8.4 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	modernc.org/libc v1.75.7 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
	modernc.org/sqlite v1.59.0 // indirect
)

// Benchmarks against peer libraries live in their own module, so the peers
// never enter the main module's dependencies.
replace (
	github.com/keycard-go/keycard => ..
	github.com/keycard-go/keycard/store/mysql => ../store/mysql
	github.com/keycard-go/keycard/store/postgres => ../store/postgres
	github.com/keycard-go/keycard/store/redis => ../store/redis
	github.com/keycard-go/keycard/store/sqlite => ../store/sqlite
)
