package keycard

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

// TestScopedKeysAreTreatedAlike checks the reserved namespace's two
// scopes with keys that no package of the repository uses: Login drops
// every key in either scope and keeps the rest, and rotation leaves a
// session on its ID exactly while it holds an ID-scoped key.
func TestScopedKeysAreTreatedAlike(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rotatingFixture(t)
		f.mux.HandleFunc("/del", func(w http.ResponseWriter, r *http.Request) {
			FromContext(r.Context()).Delete(r.URL.Query().Get("k"))
		})
		c := f.client()
		for _, k := range []string{LoginScoped + "a", LoginScoped + "b", IDScoped + "x", "app"} {
			c.get("/put?k=" + k + "&v=1")
		}
		c.get("/login?u=alice")
		for k, want := range map[string]string{LoginScoped + "a": "", LoginScoped + "b": "", IDScoped + "x": "", "app": "1"} {
			if got := c.get("/get?k=" + k); got != want {
				t.Errorf("after Login, %s = %q, want %q", k, got, want)
			}
		}

		c.get("/put?k=" + LoginScoped + "a&v=2")
		c.get("/put?k=" + IDScoped + "y&v=2")
		held := c.cookie
		time.Sleep(16 * time.Minute) // rotation is due
		c.get("/get?k=app")
		if c.cookie != held {
			t.Fatal("rotation moved a session holding an ID-scoped key")
		}
		c.get("/del?k=" + IDScoped + "y")
		time.Sleep(time.Minute)
		c.get("/get?k=app")
		if c.cookie == held {
			t.Fatal("no rotation once the ID-scoped key was gone")
		}
		if got := c.get("/get?k=" + LoginScoped + "a"); got != "2" {
			t.Errorf("rotation dropped a login-scoped key: %q", got)
		}
	})
}
