package demo

import (
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard/cmd/keycard/internal/keyfile"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/sqlite"
)

// floodSize returns how many cookie-less requests TestAnonymousFlood
// sends, and the time that bounds them: KEYCARD_FLOOD sets the count
// (1000000 for the figures in docs/RELIABILITY.md, within 15 minutes);
// the default keeps CI within a minute and a half.
func floodSize() (int, time.Duration) {
	if n, err := strconv.Atoi(os.Getenv("KEYCARD_FLOOD")); err == nil && n > 0 {
		return n, 15 * time.Minute
	}
	return 60_000, 90 * time.Second
}

// F1, measured: a flood of cookie-less requests of every anonymous page,
// from rotating loopback addresses, while 100 signed-in users sit idle,
// stores nothing and signs nobody out, on the memory store and on SQLite:
// the store holds only the signed-in sessions after it, the database
// file does not grow, and the heap stays within a bound.
func TestAnonymousFlood(t *testing.T) {
	for _, kind := range []string{"memory", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			var st store.Store
			var dbFile string
			switch kind {
			case "memory":
				st = memory.New(memory.Config{MaxSessions: 10_000})
			case "sqlite":
				dbFile = filepath.Join(t.TempDir(), "sessions.db")
				s, err := sqlite.Open(dbFile, sqlite.Config{})
				if err != nil {
					t.Fatal(err)
				}
				st = s
			}
			t.Cleanup(func() { st.(io.Closer).Close() })
			floodOne(t, st, dbFile)
		})
	}
}

func floodOne(t *testing.T, st store.Store, dbFile string) {
	app, _, clients := signedInDemo(t, st)
	before := count(t, st)
	fileBefore := fileSize(dbFile)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapAlloc

	// The flood: in process, from 127.0.0.0/8 addresses that change every
	// request (65,536 /32 networks), on every page a visitor can load.
	pages := []string{"/", "/login", "/api", "/profile", "/devices", "/sealed/", "/nowhere"}
	n, floodTime := floodSize()
	var sent, stored atomic.Int64
	var codes sync.Map
	start := time.Now()
	deadline := start.Add(floodTime)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n && time.Now().Before(deadline); i += 4 {
				r := httptest.NewRequest("GET", pages[i%len(pages)], nil)
				r.RemoteAddr = fmt.Sprintf("127.%d.%d.%d:%d", i>>16&0xff, i>>8&0xff, i&0xff, 1024+i%60000)
				rec := httptest.NewRecorder()
				app.ServeHTTP(rec, r)
				sent.Add(1)
				if c, _ := codes.LoadOrStore(rec.Code, new(atomic.Int64)); c != nil {
					c.(*atomic.Int64).Add(1)
				}
				for _, c := range rec.Result().Cookies() {
					if c.Name == CookieName && c.MaxAge >= 0 {
						stored.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	after := count(t, st)
	t.Logf("FIGURE %d cookie-less requests (of %d asked) in %v; session cookies set: %d; records before %d, after %d; file %d -> %d bytes; heap %d -> %d KiB; process RSS %s",
		sent.Load(), n, time.Since(start).Round(time.Second), stored.Load(), before, after, fileBefore, fileSize(dbFile), heapBefore>>10, ms.HeapAlloc>>10, rss())
	codes.Range(func(k, v any) bool { t.Logf("FIGURE status %v: %d", k, v.(*atomic.Int64).Load()); return true })
	if sent.Load() < 10_000 {
		t.Fatalf("only %d requests ran before the time bound: too few to say anything", sent.Load())
	}
	if stored.Load() != 0 || after != before {
		t.Errorf("the flood stored sessions: %d session cookies set, records %d -> %d; want none", stored.Load(), before, after)
	}
	if dbFile != "" && fileSize(dbFile) > fileBefore+1<<20 {
		t.Errorf("the database grew from %d to %d bytes during a flood that stores nothing", fileBefore, fileSize(dbFile))
	}
	if grown := int64(ms.HeapAlloc) - int64(heapBefore); grown > 64<<20 {
		t.Errorf("the heap grew by %d MiB during the flood; want under 64", grown>>20)
	}
	for i, c := range clients {
		if _, body := c.get("/"); !strings.Contains(body, fmt.Sprintf("Signed in as flood%03d", i)) {
			t.Fatalf("user %d was signed out by the flood", i)
		}
	}
}

// count returns how many records st holds.
func count(t *testing.T, st store.Store) int {
	t.Helper()
	sc, ok := st.(store.Scanner)
	if !ok {
		t.Fatalf("%T cannot be counted", st)
	}
	n := 0
	if err := sc.Scan(t.Context(), func(store.Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func fileSize(path string) int64 {
	if path == "" {
		return 0
	}
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// The flood's other half: visitors who do store something (each loads the
// shop from a new address, then puts an item in the cart with the page's
// token), against a memory store bounded at 1,000 sessions. Anonymous
// sessions stay within their own share of the bound, evicting one
// another, and every signed-in user stays signed in.
func TestStoringFloodEvictsOnlyVisitors(t *testing.T) {
	st := memory.New(memory.Config{MaxSessions: 1000, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { st.Close() })
	const visitors = 5000
	app, srv, clients := signedInDemo(t, st)
	added := 0
	for i := range visitors {
		addr := fmt.Sprintf("127.%d.%d.%d:1", 1+i>>16&0xff, i>>8&0xff, i&0xff)
		r := httptest.NewRequest("GET", srv.URL+"/", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		m := hiddenInput.FindStringSubmatch(w.Body.String())
		if m == nil {
			t.Fatal("no token on the shop page")
		}
		post := httptest.NewRequest("POST", srv.URL+"/cart/add", strings.NewReader(url.Values{m[1]: {html.UnescapeString(m[2])}, "product": {"tea"}}.Encode()))
		post.RemoteAddr = addr
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		post.Header.Set("Sec-Fetch-Site", "same-origin")
		for _, c := range w.Result().Cookies() {
			post.AddCookie(c)
		}
		pw := httptest.NewRecorder()
		app.ServeHTTP(pw, post)
		if pw.Code == http.StatusSeeOther {
			added++
		}
	}
	t.Logf("FIGURE %d of %d visitors stored a cart; store holds %d records (bound 1000), %d evictions, %d refusals",
		added, visitors, st.Len(), st.Evictions(), st.Refusals())
	if added < visitors/2 {
		t.Fatalf("only %d of %d visitors could put an item in the cart: the flood did not store", added, visitors)
	}
	if st.Len() > 1000 || st.Evictions() == 0 {
		t.Errorf("store: %d records, %d evictions; want at most 1000, and evictions", st.Len(), st.Evictions())
	}
	for i, c := range clients {
		if _, body := c.get("/"); !strings.Contains(body, fmt.Sprintf("Signed in as flood%03d", i)) {
			t.Fatalf("user %d was signed out by a flood of visitors' carts", i)
		}
	}
}

// rss returns the process's resident set size and its peak, as Linux
// reports them, or "unknown".
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	var now, peak string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			now = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			peak = strings.TrimSpace(v)
		}
	}
	return now + " (peak " + peak + ")"
}

// signedInDemo serves the demo over st, with 100 users (flood000 to
// flood099) who each sign in once, through the sign-in form, and then sit
// idle; it returns their browsers.
func signedInDemo(t *testing.T, st store.Store) (*App, *httptest.Server, []*client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	app, err := New(Config{Store: st, Keys: keyfile.Generate(time.Now()), Origin: srv.URL, StoreName: "flood",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = app
	clients := make([]*client, 100)
	for i := range clients {
		id := fmt.Sprintf("flood%03d", i)
		u := &user{ID: id, Name: id, Password: "pw-" + id, salt: make([]byte, 16)}
		u.hash = hashPassword(u.Password, u.salt)
		app.users[id] = u
		clients[i] = newClient(t, srv.URL)
		if resp, _ := clients[i].login(id, u.Password, false); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login of %s: %d", id, resp.StatusCode)
		}
	}
	return app, srv, clients
}
