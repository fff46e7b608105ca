module github.com/keycard-go/keycard/contrib/chi

go 1.25

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000
)

require (
	github.com/fxamacker/cbor/v2 v2.9.6 // indirect
	github.com/x448/float16 v0.8.4 // indirect
)

// Within this repository the adapter builds against the root module; a
// release tags both, and users' builds ignore this line.
replace github.com/keycard-go/keycard => ../..
