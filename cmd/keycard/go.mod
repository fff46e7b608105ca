module github.com/keycard-go/keycard/cmd/keycard

go 1.25.0

require github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000

require (
	github.com/rogpeppe/go-internal v1.16.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/term v0.45.0 // indirect
)

// Within this repository the command builds against the modules beside it;
// a release tags them all, and users' builds ignore these lines.
replace (
	github.com/keycard-go/keycard => ../..
	github.com/keycard-go/keycard/store/mysql => ../../store/mysql
	github.com/keycard-go/keycard/store/postgres => ../../store/postgres
	github.com/keycard-go/keycard/store/redis => ../../store/redis
	github.com/keycard-go/keycard/store/sqlite => ../../store/sqlite
	github.com/keycard-go/keycard/token => ../../token
)
