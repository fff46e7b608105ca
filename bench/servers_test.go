package bench

import (
	"net/http"
	"strings"
	"testing"
)

// TestRoutes checks that every implementation gives the routes the same
// meaning, so the benchmarks compare like with like.
func TestRoutes(t *testing.T) {
	for _, bi := range implementations() {
		t.Run(bi.backend+"/"+bi.lib, func(t *testing.T) {
			impl, _ := bi.make(t, false)
			defer impl.Close()
			c := newClient(impl.Handler)
			c.w.keep = true
			expect := func(path string, want int, body ...string) {
				t.Helper()
				if got := c.do(path, true, true); got != want {
					t.Fatalf("GET %s: status %d, want %d", path, got, want)
				}
				if len(body) > 0 && string(c.w.body) != body[0] {
					t.Fatalf("GET %s: body %q, want %q", path, c.w.body, body[0])
				}
			}
			expect("/health", http.StatusOK, "ok")
			if strings.HasPrefix(bi.lib, "bare") {
				expect("/read", http.StatusOK, User)
				return
			}
			expect("/read", http.StatusUnauthorized)
			expect("/write", http.StatusUnauthorized)
			expect("/login", http.StatusOK, "ok")
			if c.cookie == nil {
				t.Fatal("login set no cookie")
			}
			expect("/read", http.StatusOK, User)
			expect("/write", http.StatusOK, "1")
			expect("/write", http.StatusOK, "2")
			old := c.cookie
			expect("/login", http.StatusOK)
			if c.cookie == nil || c.cookie[0] == old[0] {
				t.Fatalf("login kept the cookie %v", c.cookie)
			}
			expect("/read", http.StatusOK, User)
			expect("/write", http.StatusOK, "1")
			if bi.backend != "cookie" {
				// The old ID must be dead once the login renewed it.
				c.setCookie(old[0])
				expect("/read", http.StatusUnauthorized)
			}
		})
	}
}
