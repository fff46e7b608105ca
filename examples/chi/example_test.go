package chikeycard_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/keycard-go/keycard"
)

// Example installs Keycard's middleware in a chi router with r.Use, as
// any chi middleware: a cart that survives signing in, a read, and
// logout.
func Example() {
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		panic(err)
	}
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, m.Handler)
	r.Post("/cart/{item}", func(w http.ResponseWriter, r *http.Request) {
		keycard.Update(r.Context(), keycard.FromContext(r.Context()), "cart",
			func(items []string) []string { return append(items, chi.URLParam(r, "item")) })
	})
	r.Post("/login", func(w http.ResponseWriter, r *http.Request) {
		// Check the user's password first; then:
		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), "alice"); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	})
	r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		cart, _ := keycard.Get[[]string](s, "cart")
		fmt.Fprintf(w, "user=%q cart=%v\n", s.UserID(), cart)
	})
	r.Post("/logout", func(w http.ResponseWriter, r *http.Request) {
		m.Logout(r.Context(), keycard.FromContext(r.Context()))
		http.Redirect(w, r, "/me", http.StatusSeeOther)
	})
	ts := httptest.NewTLSServer(r)
	defer ts.Close()

	client := ts.Client()
	client.Jar, _ = cookiejar.New(nil)
	do := func(method, path string) {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		res, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %s: %d %s", method, path, res.StatusCode, body)))
	}
	do("GET", "/me")
	do("POST", "/cart/book")
	do("POST", "/login")
	do("GET", "/me")
	do("POST", "/logout") // follows the redirect
	// Output:
	// GET /me: 200 user="" cart=[]
	// POST /cart/book: 200
	// POST /login: 200
	// GET /me: 200 user="alice" cart=[book]
	// POST /logout: 200 user="" cart=[]
}
