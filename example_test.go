package keycard_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/keycard-go/keycard"
)

// browser is a client with a cookie jar, for the examples.
func browser(ts *httptest.Server) func(method, path string) string {
	jar, _ := cookiejar.New(nil)
	c := ts.Client()
	c.Jar = jar
	return func(method, path string) string {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		res, err := c.Do(req)
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return strings.TrimSpace(string(b))
	}
}

// Example shows the common case: a Manager with the zero Config, its
// middleware around a mux, and a handler that keeps a value in the session.
func Example() {
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/theme", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		if t := r.URL.Query().Get("set"); t != "" {
			s.Put("theme", t)
		}
		theme, ok := keycard.Get[string](s, "theme")
		if !ok {
			theme = "light (default)"
		}
		fmt.Fprintln(w, theme)
	})
	ts := httptest.NewTLSServer(m.Handler(mux))
	defer ts.Close()

	get := browser(ts)
	fmt.Println(get("GET", "/theme"))
	fmt.Println(get("GET", "/theme?set=dark"))
	fmt.Println(get("GET", "/theme"))
	// Output:
	// light (default)
	// dark
	// dark
}

// ExampleManager_Login shows login and logout. Login renews the session ID
// (so a planted pre-login cookie is useless) and keeps the visitor's data;
// Logout deletes the record, so a copy of the cookie stops working.
func ExampleManager_Login() {
	m, _ := keycard.New(keycard.Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		keycard.Update(r.Context(), s, "cart", func(items []string) []string { return append(items, "book") })
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the user's password first; then:
		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), "alice"); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		m.Logout(r.Context(), keycard.FromContext(r.Context()))
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		cart, _ := keycard.Get[[]string](s, "cart")
		fmt.Fprintf(w, "user=%q cart=%v", s.UserID(), cart)
	})
	ts := httptest.NewTLSServer(m.Handler(mux))
	defer ts.Close()

	do := browser(ts)
	do("POST", "/cart")
	do("POST", "/login")
	fmt.Println(do("GET", "/me"))
	do("POST", "/logout")
	fmt.Println(do("GET", "/me"))
	// Output:
	// user="alice" cart=[book]
	// user="" cart=[]
}

// ExampleUpdate shows an atomic counter: concurrent requests, even on
// different instances sharing a store, never lose an increment.
func ExampleUpdate() {
	m, _ := keycard.New(keycard.Config{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := keycard.Update(r.Context(), keycard.FromContext(r.Context()), "visits",
			func(n int) int { return n + 1 })
		if err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, n)
	}))
	ts := httptest.NewTLSServer(h)
	defer ts.Close()

	get := browser(ts)
	get("GET", "/")
	get("GET", "/")
	fmt.Println(get("GET", "/"))
	// Output: 3
}

// ExampleManager_RememberMe shows a "remember me" login: the cookie
// persists across browser restarts, for the longer RememberMe timeouts.
func ExampleManager_RememberMe() {
	m, _ := keycard.New(keycard.Config{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		m.Login(r.Context(), s, "alice")
		m.RememberMe(s, r.FormValue("remember") == "on")
	}))
	for _, form := range []string{"", "remember=on"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/login?"+form, nil))
		c := w.Result().Cookies()[0]
		fmt.Printf("%q: persistent=%v days=%d\n", form, c.MaxAge > 0, c.MaxAge/86400)
	}
	// Output:
	// "": persistent=false days=0
	// "remember=on": persistent=true days=30
}

// ExampleSession_Flash shows a message that survives one redirect.
func ExampleSession_Flash() {
	m, _ := keycard.New(keycard.Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /save", func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Flash("Saved.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, keycard.FromContext(r.Context()).Flashes())
	})
	ts := httptest.NewTLSServer(m.Handler(mux))
	defer ts.Close()

	do := browser(ts)
	fmt.Println(do("POST", "/save")) // follows the redirect
	fmt.Println(do("GET", "/"))
	// Output:
	// [Saved.]
	// []
}

// ExampleKey shows that keys cannot leak through logs or fmt.
func ExampleKey() {
	k := keycard.NewKey()
	fmt.Println(k, len(k))
	// Output: [REDACTED] 32
}

// ExampleLoadKeys signs sessions with keys from a key file, as written by
// "keycard keys new", so that a restarted server keeps its users signed
// in.
func ExampleLoadKeys() {
	dir, err := os.MkdirTemp("", "keycard-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.keys")
	// Once, at deployment: "keycard keys new --out app.keys" does this.
	text, _ := (&keycard.KeyFile{Session: []keycard.Key{keycard.NewKey()}}).MarshalText()
	os.WriteFile(path, text, 0o600)

	keys, err := keycard.LoadKeys(path)
	if err != nil {
		panic(err)
	}
	m, err := keycard.New(keycard.Config{Keys: keys.Session})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(keys.Session), "session key; manager ready:", m != nil)

	os.Chmod(path, 0o644)
	_, err = keycard.LoadKeys(path)
	fmt.Println(err != nil && strings.Contains(err.Error(), "readable by others"))
	// Output:
	// 1 session key; manager ready: true
	// true
}
