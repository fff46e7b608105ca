module github.com/keycard-go/keycard/store/mysql

go 1.25

require (
	github.com/go-sql-driver/mysql v1.10.1
	github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/fxamacker/cbor/v2 v2.9.6 // indirect
	github.com/x448/float16 v0.8.4 // indirect
)

// Within this repository the store builds against the root module beside
// it; a release tags both, and users' builds ignore this line.
replace github.com/keycard-go/keycard => ../..
