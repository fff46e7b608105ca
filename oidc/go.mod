module github.com/keycard-go/keycard/oidc

go 1.25.0

require (
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000
	golang.org/x/oauth2 v0.36.0
)

require (
	github.com/fxamacker/cbor/v2 v2.9.6 // indirect
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/x448/float16 v0.8.4 // indirect
)

// Within this repository the package builds against the root module beside
// it; a release tags both, and users' builds ignore this line.
replace github.com/keycard-go/keycard => ..
