module github.com/keycard-go/keycard/bench

go 1.25

require github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000

// Benchmarks against peer libraries live in their own module, so the peers
// never enter the main module's dependencies.
replace (
	github.com/keycard-go/keycard => ..
	github.com/keycard-go/keycard/store/mysql => ../store/mysql
	github.com/keycard-go/keycard/store/postgres => ../store/postgres
	github.com/keycard-go/keycard/store/redis => ../store/redis
	github.com/keycard-go/keycard/store/sqlite => ../store/sqlite
)
