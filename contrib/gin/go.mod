module github.com/keycard-go/keycard/contrib/gin

go 1.25

require github.com/keycard-go/keycard v0.0.0-00010101000000-000000000000

// Within this repository the adapter builds against the root module; a
// release tags both, and users' builds ignore this line.
replace github.com/keycard-go/keycard => ../..
