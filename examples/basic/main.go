// Command basic is a small server showing Keycard's core: an anonymous
// cart, login that renews the session, logout, flash messages, and an
// atomic counter. Run it with `go run ./examples/basic` and open
// http://127.0.0.1:8080.
package main

import (
	"flag"
	"html/template"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/keycard-go/keycard"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<title>Keycard example</title>
<style>body{font:16px system-ui;max-width:40em;margin:2em auto}.flash{background:#efe;padding:.5em}</style>
{{range .Flashes}}<p class="flash">{{.}}</p>{{end}}
<h1>Keycard example</h1>
<p>{{if .User}}Signed in as <b>{{.User}}</b>.{{else}}Not signed in.{{end}}
Visits in this session: {{.Visits}}. Items in cart: {{len .Cart}}.</p>
<p>Session began {{.Created.Format "15:04:05"}}; idle deadline {{.Idle.Format "15:04:05"}}; absolute deadline {{.Deadline.Format "15:04:05"}}.</p>
<form method="post" action="/cart"><button>Add an item to the cart</button></form>
{{if .User}}<form method="post" action="/logout"><button>Sign out</button></form>
{{else}}<form method="post" action="/login"><input name="user" placeholder="user name" required> <button>Sign in</button></form>{{end}}
`))

type view struct {
	User          string
	Visits        int
	Cart          []string
	Flashes       []string
	Created, Idle time.Time
	Deadline      time.Time
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	m, err := keycard.New(keycard.Config{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		visits, err := keycard.Update(r.Context(), s, "visits", func(n int) int { return n + 1 })
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		cart, _ := keycard.Get[[]string](s, "cart")
		info := s.Info()
		page.Execute(w, view{User: s.UserID(), Visits: visits, Cart: cart, Flashes: s.Flashes(),
			Created: info.Created, Idle: info.IdleDeadline, Deadline: info.Deadline})
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		keycard.Update(r.Context(), s, "cart", func(c []string) []string { return append(c, "item") })
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		// A real application checks a password here.
		if err := m.Login(r.Context(), s, r.FormValue("user")); err != nil {
			http.Error(w, "cannot sign in", http.StatusBadRequest)
			return
		}
		s.Flash("Signed in; your session has a new ID and kept your cart.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		if err := m.Logout(r.Context(), s); err != nil {
			http.Error(w, "cannot sign out", http.StatusServiceUnavailable)
			return
		}
		s.Flash("Signed out.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	csrf := http.NewCrossOriginProtection()
	srv := &http.Server{Addr: *addr, Handler: csrf.Handler(m.Handler(mux)), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("keycard example listening on http://%s (memory store)", *addr)
	log.Fatal(srv.ListenAndServe())
}
