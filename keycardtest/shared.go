// Package keycardtest checks, end to end through keycard Managers, that a
// store shared by several application instances loses nothing. Store
// packages call RunShared from their tests beside storetest.Run; it needs a
// real shared backend (a server, or a database file opened twice).
package keycardtest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// Open returns a handle on the shared backend. Each call must return a new,
// independent handle (its own client, pool or file handle) on the same
// data, as a separate application instance would have.
type Open func(tb testing.TB) store.Store

// Writers is how many concurrent requests RunShared makes in each check.
const Writers = 100

// RunShared runs two keycard Managers, each over its own handle from open,
// and checks that they see each other's writes: Writers concurrent requests
// on one session, spread over both instances, each writing a distinct key
// and incrementing a counter with keycard.Update, lose nothing; and a
// logout on one instance is seen at once by the other.
func RunShared(t *testing.T, open Open) {
	key := keycard.NewKey()
	a, b := newInstance(t, open(t), key), newInstance(t, open(t), key)
	t.Run("writes on two instances see each other", func(t *testing.T) {
		c := &client{}
		c.do(t, a, "/put?k=hello&v=from-a")
		if got := c.do(t, b, "/get?k=hello"); got != "from-a" {
			t.Fatalf("instance b read %q, want from-a", got)
		}
	})
	t.Run("concurrent writers across instances lose nothing", func(t *testing.T) {
		c := &client{}
		c.do(t, a, "/login?u=shared")
		var wg sync.WaitGroup
		for i := range Writers {
			inst := []*instance{a, b}[i%2]
			wg.Add(2)
			go func() {
				defer wg.Done()
				c.fork().do(t, inst, fmt.Sprintf("/put?k=key%03d&v=%d", i, i))
			}()
			go func() {
				defer wg.Done()
				c.fork().do(t, inst, "/count")
			}()
		}
		wg.Wait()
		if got, want := c.do(t, b, "/summary"), fmt.Sprintf("keys=%d counter=%d", Writers, Writers); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("a logout on one instance is seen by the other", func(t *testing.T) {
		c := &client{}
		c.do(t, a, "/login?u=leaver")
		captured := c.fork()
		c.do(t, b, "/logout")
		if got := captured.do(t, a, "/user"); got != "" {
			t.Errorf("after logout on b, the old cookie reads user %q on a", got)
		}
	})
}

type instance struct {
	m *keycard.Manager
	h http.Handler
}

func newInstance(t *testing.T, st store.Store, key keycard.Key) *instance {
	// StoreTimeout is a guard against a hung store, not the default 5 s:
	// Writers requests on one session queue for the few connections of
	// each instance's pool, and retry their compare-and-set, which on a
	// loaded machine can take longer than 5 s without anything wrong.
	m, err := keycard.New(keycard.Config{Store: st, Keys: []keycard.Key{key}, OnEvent: func(event.Event) {}, StoreTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	fail := func(w http.ResponseWriter, err error) {
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		fail(w, keycard.FromContext(r.Context()).Put(r.FormValue("k"), r.FormValue("v")))
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := keycard.Get[string](keycard.FromContext(r.Context()), r.FormValue("k"))
		io.WriteString(w, v)
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		_, err := keycard.Update(r.Context(), keycard.FromContext(r.Context()), "counter", func(n int) int { return n + 1 })
		fail(w, err)
	})
	mux.HandleFunc("/summary", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		n, _ := keycard.Get[int](s, "counter")
		fmt.Fprintf(w, "keys=%d counter=%d", len(s.Keys())-1, n)
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		fail(w, m.Login(r.Context(), keycard.FromContext(r.Context()), r.FormValue("u")))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		fail(w, m.Logout(r.Context(), keycard.FromContext(r.Context())))
	})
	mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, keycard.FromContext(r.Context()).UserID())
	})
	return &instance{m: m, h: m.Handler(mux)}
}

// client holds one session cookie.
type client struct {
	mu     sync.Mutex
	cookie *http.Cookie
}

func (c *client) fork() *client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &client{cookie: c.cookie}
}

// do serves one request on inst and returns the body; a non-200 status
// fails the test.
func (c *client) do(t *testing.T, inst *instance, target string) string {
	r := httptest.NewRequest("GET", target, nil)
	c.mu.Lock()
	if c.cookie != nil {
		r.AddCookie(c.cookie)
	}
	c.mu.Unlock()
	w := httptest.NewRecorder()
	inst.h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("%s: status %d: %s", target, w.Code, w.Body.String())
	}
	for _, sc := range w.Result().Cookies() {
		c.mu.Lock()
		if sc.MaxAge < 0 {
			c.cookie = nil
		} else {
			c.cookie = sc
		}
		c.mu.Unlock()
	}
	return w.Body.String()
}
