package adaptertest

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/keycard-go/keycard"
)

// TestClient checks the browser the flows rely on: headers in pairs, the
// body trimmed, a jar per client, and reading and replacing the cookie.
func TestClient(t *testing.T) {
	t.Parallel()
	a := NewApp(t, keycard.Config{}, func(a *App) http.Handler {
		return a.Manager.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := keycard.FromContext(r.Context())
			if r.Method == http.MethodPost {
				s.Put("visits", 2)
			}
			fmt.Fprintf(w, " %s %s\n", r.Header.Get("X-Test"), Me(s))
		}))
	})
	cl := a.Client(t)
	if _, body := cl.Do("POST", "/", "X-Test", "sent"); body != `sent user="" cart=[] visits=2` {
		t.Errorf("Do: got %q", body)
	}
	saved := cl.Session()
	if saved == "" {
		t.Fatal("Session: no cookie after a write")
	}
	if a.Client(t).Session() != "" {
		t.Error("a new client shares the jar")
	}
	cl.SetSession("forged")
	if got := cl.Session(); got != "forged" {
		t.Errorf("Session after SetSession: got %q", got)
	}
	if got := cl.Body("GET", "/"); got != `user="" cart=[] visits=0` {
		t.Errorf("Body with a forged cookie: got %q", got)
	}
	cl.SetSession(saved)
	if got := cl.Body("GET", "/"); got != `user="" cart=[] visits=2` {
		t.Errorf("Body with the saved cookie: got %q", got)
	}
}
