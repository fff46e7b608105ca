package sqlite_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store/sqlite"
)

// TestManagerRequestsRunOneStatementPerStoreCall counts, with a counting
// driver, the statements a keycard Manager runs for a request that reads
// its session and for one that changes it. SQLite runs in the process, so
// a statement is the round trip: a read request costs one SELECT and no
// write, a write request one SELECT and one UPDATE, and the request that
// creates the session one INSERT.
func TestManagerRequestsRunOneStatementPerStoreCall(t *testing.T) {
	t.Parallel()
	db, c := openCounting(t, sqlite.DSN(filepath.Join(testDir(t), "sessions.db"), sqlite.Config{}))
	s, err := sqlite.New(db, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	m, err := keycard.New(keycard.Config{Store: s, Keys: []keycard.Key{keycard.NewKey()}, OnEvent: func(event.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("theme", r.FormValue("v"))
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		theme, _ := keycard.Get[string](keycard.FromContext(r.Context()), "theme")
		io.WriteString(w, theme)
	})
	ts := httptest.NewTLSServer(m.Handler(mux))
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	client := ts.Client()
	client.Jar = jar
	get := func(path string) string {
		res, err := client.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, b)
		}
		return string(b)
	}

	for _, req := range []struct {
		path                  string
		wantReads, wantWrites int64
	}{
		{"/put?v=dark", 0, 1}, // creates the session: no cookie yet, nothing to load
		{"/get", 1, 0},
		{"/put?v=light", 1, 1},
		{"/get", 1, 0},
	} {
		reads, writes := c.snapshot()
		get(req.path)
		r, w := c.snapshot()
		t.Logf("GET %s: %d read statements, %d write statements", req.path, r-reads, w-writes)
		if r-reads != req.wantReads || w-writes != req.wantWrites {
			t.Errorf("GET %s: got %d reads and %d writes, want %d and %d", req.path, r-reads, w-writes, req.wantReads, req.wantWrites)
		}
	}
	if got := get("/get"); got != "light" {
		t.Errorf("got theme %q, want light", got)
	}
	if p := c.prepares.Load(); p > 8*4 {
		t.Errorf("got %d statement preparations, want at most one per statement and connection", p)
	}
}
