module github.com/keycard-go/keycard/bench

go 1.25.0

require (
	github.com/alexedwards/scs/goredisstore v0.0.0-20250212122300-421ef1d8611c
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/boj/redistore v1.4.1
	github.com/gorilla/sessions v1.4.0
	github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/store/redis v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.22.0
	github.com/redis/rueidis v1.0.79
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/fxamacker/cbor/v2 v2.9.6 // indirect
	github.com/gomodule/redigo v1.9.2 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
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
