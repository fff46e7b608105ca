package memcached_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/memcached"
)

func Example() {
	// The client is yours: its timeout bounds every round trip, and it
	// should keep an idle connection for each request served at once.
	client := memcache.New("127.0.0.1:11211")
	client.Timeout = time.Second
	client.MaxIdleConns = 64
	defer client.Close()

	m, err := keycard.New(keycard.Config{
		Store: memcached.New(client, memcached.Config{Prefix: "example:sessions:"}),
		Keys:  []keycard.Key{keycard.NewKey()}, // load the same keys on every instance
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		if err := m.Login(r.Context(), s, "alice"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "logged in")
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user %q", keycard.FromContext(r.Context()).UserID())
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(r.Context(), keycard.FromContext(r.Context())); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "logged out") // and the record is deleted from memcached
	})
	srv := httptest.NewTLSServer(m.Handler(mux))
	defer srv.Close()

	browser := srv.Client()
	browser.Jar, _ = cookiejar.New(nil)
	for _, path := range []string{"/login", "/whoami", "/logout", "/whoami"} {
		resp, err := browser.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s: %s %s\n", path, resp.Status, body)
	}
	// Output:
	// /login: 200 OK logged in
	// /whoami: 200 OK user "alice"
	// /logout: 200 OK logged out
	// /whoami: 200 OK user ""
}
