package keycard_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/keycard-go/keycard"
)

// A server-sent events stream that ends when its session does: here the
// user logs out in another tab while the stream is open.
func ExampleManager_Watch() {
	m, _ := keycard.New(keycard.Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		m.Login(r.Context(), keycard.FromContext(r.Context()), "alice")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		m.Logout(r.Context(), keycard.FromContext(r.Context()))
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		watch, err := m.Watch(keycard.FromContext(r.Context()))
		if err != nil {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		defer watch.Stop()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: hello\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-watch.Done(): // logged out, revoked or expired
			fmt.Fprint(w, "event: ended\ndata: signed out\n\n")
		case <-r.Context().Done(): // the client left
		}
	})
	ts := httptest.NewTLSServer(m.Handler(mux))
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	client := ts.Client()
	client.Jar = jar // one browser: its tabs share the cookie
	client.Post(ts.URL+"/login", "", nil)

	res, err := client.Get(ts.URL + "/events")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	lines.Scan()
	fmt.Println(lines.Text())
	client.Post(ts.URL+"/logout", "", nil) // in another tab
	for lines.Scan() {
		if line := lines.Text(); strings.HasPrefix(line, "data: ") {
			fmt.Println(line)
		}
	}
	// Output:
	// data: hello
	// data: signed out
}
