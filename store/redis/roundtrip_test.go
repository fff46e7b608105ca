package redis_test

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/internal/redistest"
)

// changes returns the server's count of changes to the dataset
// (rdb_changes_since_last_save, which counts writes whether or not the
// server persists).
func changes(t *testing.T, addr string) int {
	t.Helper()
	info, err := redistest.Command(addr, "INFO", "persistence")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "rdb_changes_since_last_save:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatal("INFO persistence has no rdb_changes_since_last_save")
	return 0
}

// summary counts commands by name: "evalsha×1 get×1".
func summary(names []string) string {
	counts := make(map[string]int)
	for _, n := range names {
		counts[n]++
	}
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s×%d", n, counts[n]))
	}
	return strings.Join(parts, " ")
}

// browser holds one client's session cookie.
type browser struct{ cookie *http.Cookie }

func (b *browser) get(t *testing.T, h http.Handler, target string) string {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	if b.cookie != nil {
		r.AddCookie(b.cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", target, w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if b.cookie = c; c.MaxAge < 0 {
			b.cookie = nil
		}
	}
	return w.Body.String()
}

// TestManagerRequestsCostFewCommands counts, on a private server's MONITOR
// stream, the commands that each kind of Manager request sends, and with
// the server's own change counter whether it writes: a read is one GET
// and writes nothing; a write is that GET and one EVALSHA; every Save,
// including one that creates a record for a user or retires a user's
// record at a renewal, is one EVALSHA, index upkeep included. A second
// command per Save (an index script, a ZREM) would fail it.
func TestManagerRequestsCostFewCommands(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	st := redis.New(redistest.Client(t, []string{srv.Addr}), redis.Config{})
	m, err := keycard.New(keycard.Config{Store: st, Keys: []keycard.Key{keycard.NewKey()}, OnEvent: func(event.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("k", r.FormValue("v"))
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := keycard.Get[string](keycard.FromContext(r.Context()), "k")
		io.WriteString(w, v)
	})
	mux.HandleFunc("/hash", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, keycard.FromContext(r.Context()).Info().Hash)
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), "alice"); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Renew(r.Context(), keycard.FromContext(r.Context())); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(r.Context(), keycard.FromContext(r.Context())); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/devices", func(w http.ResponseWriter, r *http.Request) {
		list, err := m.Sessions(r.Context(), "alice")
		if err != nil {
			http.Error(w, err.Error(), 500)
		}
		fmt.Fprint(w, len(list))
	})
	h := m.Handler(mux)

	// One round of every request loads every script into the server, so
	// that what follows runs EVALSHA only.
	warm := &browser{}
	for _, target := range []string{"/put?v=1", "/put?v=2", "/login", "/put?v=3", "/renew", "/devices", "/logout", "/login"} {
		warm.get(t, h, target)
	}
	if _, err := m.RevokeUser(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	st.Touch(t.Context(), strings.Repeat("0", 64), time.Now(), time.Now())

	b, other := &browser{}, &browser{}
	var hash string
	steps := []struct {
		name    string
		run     func()
		want    string // commands, or "" to only report them
		changes bool   // whether the request writes
	}{
		{"a first write creates an anonymous session", func() { b.get(t, h, "/put?v=1") }, "evalsha×1", true},
		{"a read request", func() { b.get(t, h, "/get") }, "get×1", false},
		{"a write request", func() { b.get(t, h, "/put?v=2") }, "evalsha×1 get×1", true},
		// A login saves the record under a new ID, indexed, and retires
		// the old ID, in one script (SaveBatch).
		{"a login (renews the ID, indexes the session)", func() { b.get(t, h, "/login") }, "evalsha×1 get×1", true},
		{"a read request of a logged-in user", func() { hash = b.get(t, h, "/hash") }, "get×1", false},
		{"a write request of a logged-in user", func() { b.get(t, h, "/put?v=3") }, "evalsha×1 get×1", true},
		{"a record created for a user (Save)", func() {
			now := time.Now()
			rec := &store.Record{UserID: "bob", Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
			if err := st.Save(t.Context(), strings.Repeat("1", 64), rec); err != nil {
				t.Errorf("Save: %v", err)
			}
		}, "evalsha×1", true},
		{"a touch, as a read request makes after a tenth of the idle timeout", func() {
			now := time.Now()
			if err := st.Touch(t.Context(), hash, now, now.Add(time.Hour)); err != nil {
				t.Errorf("Touch: %v", err)
			}
		}, "evalsha×1", true},
		// A renewal of a signed-in session: the new record and its index
		// entry, the old record's retirement and the removal of its index
		// entry, in one script.
		{"a renewal of a logged-in session", func() { b.get(t, h, "/renew") }, "evalsha×1 get×1", true},
		{"a device list with one session", func() { b.get(t, h, "/devices") }, "get×1 zrange×1", false},
		// A logout first retires the loaded version with a compare-and-set
		// (so a renewal racing it cannot leave a copy alive), then deletes.
		{"a logout", func() { b.get(t, h, "/logout") }, "evalsha×2 get×1", true},
		{"a second device logs in", func() {
			other.get(t, h, "/put?v=4")
			b.get(t, h, "/put?v=5")
			other.get(t, h, "/login")
			b.get(t, h, "/login")
		}, "", true},
		{"log out everywhere with two sessions (RevokeUser)", func() {
			if n, err := m.RevokeUser(t.Context(), "alice"); n != 2 || err != nil {
				t.Errorf("RevokeUser: got %d, %v, want 2, nil", n, err)
			}
		}, "evalsha×3 zrange×1", true},
	}
	mon := redistest.StartMonitor(t, srv.Addr)
	for _, step := range steps {
		before := changes(t, srv.Addr)
		mon.Next(t)
		step.run()
		sent, scripted := mon.Next(t)
		got, changed := summary(sent), changes(t, srv.Addr)-before
		t.Logf("%-68s %-22s (%d run by scripts) %d changes", step.name+":", got, scripted, changed)
		if step.want != "" && got != step.want {
			t.Errorf("%s: got commands %q, want %q", step.name, got, step.want)
		}
		if (changed > 0) != step.changes {
			t.Errorf("%s: got %d changes to the dataset, want writes: %t", step.name, changed, step.changes)
		}
	}
}
