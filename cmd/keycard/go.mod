module github.com/keycard-go/keycard/cmd/keycard

go 1.26.0

require (
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/go-sql-driver/mysql v1.10.1
	github.com/jackc/pgx/v5 v5.12.0
	github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/oidc v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/memcached v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/mongodb v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/mysql v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/postgres v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/redis v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/sqlite v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/token v0.0.0-00010101000000-000000000000
	github.com/redis/rueidis v1.0.79
	github.com/rogpeppe/go-internal v1.16.0
	github.com/zitadel/oidc/v3 v3.52.0
	go.mongodb.org/mongo-driver/v2 v2.10.0
	golang.org/x/crypto v0.55.0
	golang.org/x/term v0.45.0
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/xdg-go/scram v1.4.0 // indirect
	github.com/xdg-go/stringprep v1.0.4 // indirect
	github.com/youmark/pkcs8 v0.0.0-20240726163527-a2c0da244d78 // indirect
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/bmatcuk/doublestar/v4 v4.10.4 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/fxamacker/cbor/v2 v2.9.6 // indirect
	github.com/go-chi/chi/v5 v5.5.0 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/muhlemmer/gu v0.3.1 // indirect
	github.com/muhlemmer/httpforwarded v0.1.0 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/rs/cors v1.11.1 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	github.com/zitadel/schema v1.3.2 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel v1.46.0 // indirect
	go.opentelemetry.io/otel/metric v1.46.0 // indirect
	go.opentelemetry.io/otel/trace v1.46.0 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	golang.org/x/tools v0.51.0 // indirect
	modernc.org/libc v1.75.7 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
	modernc.org/sqlite v1.59.0 // indirect
)

// Within this repository the command builds against the modules beside it;
// a release tags them all, and users' builds ignore these lines.
replace (
	github.com/keycard-go/keycard => ../..
	github.com/keycard-go/keycard/oidc => ../../oidc
	github.com/keycard-go/keycard/store/memcached => ../../store/memcached
	github.com/keycard-go/keycard/store/mongodb => ../../store/mongodb
	github.com/keycard-go/keycard/store/mysql => ../../store/mysql
	github.com/keycard-go/keycard/store/postgres => ../../store/postgres
	github.com/keycard-go/keycard/store/redis => ../../store/redis
	github.com/keycard-go/keycard/store/sqlite => ../../store/sqlite
	github.com/keycard-go/keycard/token => ../../token
)
