package bench

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
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

// TestBareHeaders checks, over HTTP, that bare-headers is bare plus the
// two cache headers of a personal response: its /read and /write answers
// carry Vary: Cookie and Cache-Control: no-store with bare's bodies, its
// other routes carry neither, and bare's answers carry neither; and that
// bare-context answers as bare-headers does (its /read and /write fail
// without the per-request state its middleware adds). Of the two Redis
// floors, which GET on /read, bare-context-redisget's /read carries the
// headers and bare-redisget's does not.
func TestBareHeaders(t *testing.T) {
	for _, name := range []string{"bare", "bare-headers", "bare-context", "bare-redisget", "bare-context-redisget"} {
		t.Run(name, func(t *testing.T) {
			var addr, prefix string
			if strings.HasSuffix(name, "redisget") {
				addr, prefix = redisFor(t)
			}
			impl, err := New(name, addr, prefix, "")
			if err != nil {
				t.Fatal(err)
			}
			defer impl.Close()
			srv := httptest.NewServer(impl.Handler)
			defer srv.Close()
			for _, p := range []struct {
				path, body string
				personal   bool // a session library marks it personal
			}{
				{"/read", User, true},
				{"/write", "1", true},
				{"/health", "ok", false},
				{"/login", "ok", false},
			} {
				res, err := srv.Client().Get(srv.URL + p.path)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != http.StatusOK || string(body) != p.body {
					t.Errorf("GET %s: %d %q, want 200 %q", p.path, res.StatusCode, body, p.body)
				}
				want := map[string][]string{"Vary": nil, "Cache-Control": nil}
				personal := p.personal && name != "bare" && name != "bare-redisget" &&
					(name != "bare-context-redisget" || p.path == "/read")
				if personal {
					want = map[string][]string{"Vary": {"Cookie"}, "Cache-Control": {"no-store"}}
				}
				for k, v := range want {
					if got := res.Header.Values(k); !slices.Equal(got, v) {
						t.Errorf("GET %s: %s %q, want %q", p.path, k, got, v)
					}
				}
			}
		})
	}
}

// TestSQLiteSettings checks that the peers' SQLite databases are opened
// with the settings of Keycard's store (sqlite.DSN's pragmas on every
// connection, sqlite.Open's pool), so that a comparison with
// keycard-sqlite measures the libraries.
func TestSQLiteSettings(t *testing.T) {
	db, err := openSQLite(filepath.Join(t.TempDir(), "peer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, want := db.Stats().MaxOpenConnections, max(4, runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("MaxOpenConnections %d, want %d", got, want)
	}
	// Hold several connections at once, so that the pragmas are read on
	// more than the first.
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 3 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		for _, p := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"synchronous", "1"}, // NORMAL
			{"busy_timeout", "5000"},
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != p.want {
				t.Errorf("connection %d: PRAGMA %s = %s, want %s", i, p.pragma, got, p.want)
			}
		}
	}
}

// TestSCSSQLiteStores checks that scs-sqlite keeps its sessions in the
// sessions table of its database file: one row per logged-in session, and
// none left for a session whose ID a login renewed.
func TestSCSSQLiteStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scs.db")
	impl, err := New("scs-sqlite", "", "", path)
	if err != nil {
		t.Fatal(err)
	}
	defer impl.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := func() (n int) {
		t.Helper()
		if err := db.QueryRow("SELECT count(*) FROM sessions WHERE julianday('now') < expiry").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n != 0 {
		t.Fatalf("%d sessions before any request, want 0", n)
	}
	a, b := newClient(impl.Handler), newClient(impl.Handler)
	for _, c := range []*client{a, b} {
		if st := c.do("/login", false, true); st != http.StatusOK {
			t.Fatalf("login: status %d", st)
		}
	}
	if n := rows(); n != 2 {
		t.Fatalf("%d sessions after two logins, want 2", n)
	}
	if st := a.do("/login", true, true); st != http.StatusOK {
		t.Fatalf("renewal: status %d", st)
	}
	if n := rows(); n != 2 {
		t.Fatalf("%d sessions after a renewal, want 2 (the old ID's row deleted)", n)
	}
	if _, err := New("scs-sqlite", "", "", ""); err == nil {
		t.Error("New(scs-sqlite) without a database path: no error")
	}
}

// TestBareContextNeedsState checks that bare-context's routes look their
// per-request state up: served without the middleware that adds it, /read
// and /write fail, so the reference pays for the lookup a session
// middleware's handlers make.
func TestBareContextNeedsState(t *testing.T) {
	srv := httptest.NewServer(routes(bareContext{}))
	defer srv.Close()
	for _, path := range []string{"/read", "/write"} {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Errorf("GET %s without the middleware: 200, want a failure", path)
		}
	}
}
