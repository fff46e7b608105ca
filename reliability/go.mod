module github.com/keycard-go/keycard/reliability

go 1.25

require github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000

// Test-only module: fault, overload, concurrency and soak tests across the
// stores. It builds against the modules beside it.
replace (
	github.com/keycard-go/keycard => ..
	github.com/keycard-go/keycard/store/mysql => ../store/mysql
	github.com/keycard-go/keycard/store/postgres => ../store/postgres
	github.com/keycard-go/keycard/store/redis => ../store/redis
	github.com/keycard-go/keycard/store/sqlite => ../store/sqlite
)
