// Command quickstart is a server whose sessions live in SQLite, signed with
// keys from a file, so that a restart signs nobody out. Make the key file
// once, then run it:
//
//	go run ./cmd/keycard keys new --out app.keys
//	go run ./examples/quickstart
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/sqlite"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	keyFile := flag.String("keys", "app.keys", "key file, from: keycard keys new")
	dbFile := flag.String("db", "sessions.db", "SQLite database of sessions")
	flag.Parse()

	keys, err := keycard.LoadKeys(*keyFile)
	if err != nil {
		log.Fatal(err)
	}
	st, err := sqlite.Open(*dbFile, sqlite.Config{})
	if err != nil {
		log.Fatal(err)
	}
	m, err := keycard.New(keycard.Config{Store: st, Keys: keys.Session})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the user's password here; then:
		s := keycard.FromContext(r.Context())
		if err := m.Login(r.Context(), s, r.FormValue("user")); err != nil {
			http.Error(w, "cannot sign in now", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		fmt.Fprintf(w, "signed in as %q\n", s.UserID())
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s", ln.Addr())
	csrf := http.NewCrossOriginProtection()
	log.Fatal(http.Serve(ln, csrf.Handler(m.Handler(mux))))
}
