module github.com/keycard-go/keycard/tests/oidc

go 1.26.0

require (
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/go-sql-driver/mysql v1.10.2
	github.com/jackc/pgx/v5 v5.13.0
	github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/oidc v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/mysql v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/postgres v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/redis v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/sqlite v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/token v0.0.0-00010101000000-000000000000
	github.com/redis/rueidis v1.0.80
	github.com/zitadel/oidc/v3 v3.52.0
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
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	modernc.org/libc v1.75.7 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
	modernc.org/sqlite v1.59.0 // indirect
)

replace (
	github.com/keycard-go/keycard => ../..
	github.com/keycard-go/keycard/oidc => ../../oidc
	github.com/keycard-go/keycard/store/mysql => ../../store/mysql
	github.com/keycard-go/keycard/store/postgres => ../../store/postgres
	github.com/keycard-go/keycard/store/redis => ../../store/redis
	github.com/keycard-go/keycard/store/sqlite => ../../store/sqlite
	github.com/keycard-go/keycard/token => ../../token
)
