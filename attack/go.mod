module github.com/keycard-go/keycard/attack

go 1.25

require github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000

// Test-only module: attacks driven against a real HTTP server built from
// Keycard's packages. It builds against the modules beside it.
replace (
	github.com/keycard-go/keycard => ..
	github.com/keycard-go/keycard/token => ../token
)
