package keycard_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
)

// Example_serveMux shows Keycard with the standard library's router and
// its method and wildcard patterns: no adapter, the middleware wraps the
// mux, and package csrf's middleware sits inside it. Routers whose
// middleware is func(http.Handler) http.Handler, such as chi, take
// m.Handler the same way (r.Use(m.Handler, p.Handler)); gin and Echo have
// adapter modules under contrib/.
func Example_serveMux() {
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		panic(err)
	}
	p, err := csrf.New(m, csrf.Config{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /shop", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, csrf.Token(r)) // a page would put it in its forms
	})
	mux.HandleFunc("POST /cart/{item}", func(w http.ResponseWriter, r *http.Request) {
		keycard.Update(r.Context(), keycard.FromContext(r.Context()), "cart",
			func(items []string) []string { return append(items, r.PathValue("item")) })
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the user's password first; then:
		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), "alice"); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		cart, _ := keycard.Get[[]string](s, "cart")
		fmt.Fprintf(w, "user=%q cart=%v", s.UserID(), cart)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		m.Logout(r.Context(), keycard.FromContext(r.Context()))
		http.Redirect(w, r, "/me", http.StatusSeeOther)
	})
	ts := httptest.NewTLSServer(m.Handler(p.Handler(mux)))
	defer ts.Close()

	client := *ts.Client()
	client.Jar, _ = cookiejar.New(nil)
	token := ""
	do := func(method, path string) {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		req.Header.Set("X-CSRF-Token", token)
		res, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if path == "/shop" {
			token = string(body)
			body = nil
		}
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %s: %d %s", method, path, res.StatusCode, body)))
	}
	do("POST", "/cart/book") // no token yet: refused
	do("GET", "/shop")
	do("POST", "/cart/book")
	do("POST", "/login")
	do("GET", "/me")
	do("GET", "/shop") // login rotated the token
	do("POST", "/logout")
	// Output:
	// POST /cart/book: 403 Forbidden
	// GET /shop: 200
	// POST /cart/book: 200
	// POST /login: 200
	// GET /me: 200 user="alice" cart=[book]
	// GET /shop: 200
	// POST /logout: 200 user="" cart=[]
}
