module github.com/keycard-go/keycard/tests/attack

go 1.25

require (
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000
	github.com/keycard-go/keycard/token v0.0.0-00010101000000-000000000000
)

require (
	github.com/fxamacker/cbor/v2 v2.9.6 // indirect
	github.com/x448/float16 v0.8.4 // indirect
)

// Test-only module: attacks driven against a real HTTP server built from
// Keycard's packages. It builds against the modules beside it.
replace (
	github.com/keycard-go/keycard => ../..
	github.com/keycard-go/keycard/token => ../../token
)
