package keycard

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store/memory"
)

// visit serves one cookie-less request from addr and returns its status.
func (f *fixture) visit(addr, target string) int {
	r := httptest.NewRequest("GET", target, nil)
	r.RemoteAddr = addr
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w.Code
}

// F1: a visitor who stores nothing costs no store call at all, however
// many pages they load.
func TestVisitorWhoStoresNothingCostsNoStoreCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Visitors: Visitors{PerMinute: 1}})
	for range 100 {
		for _, p := range []string{"/noop", "/get?k=a", "/user"} {
			if code := f.visit("198.51.100.7:1", p); code != 200 {
				t.Fatalf("GET %s: got %d, want 200", p, code)
			}
		}
	}
	if n := f.st.calls(); n != 0 {
		t.Errorf("300 cookie-less page views made %d store calls, want 0", n)
	}
}

// Visitors.PerMinute counts new anonymous sessions per /32 and per /64:
// past it the network gets 429 with Retry-After and one event, other
// networks and signed-in users are served, and the next minute it is
// served again.
func TestVisitorsPerMinuteLimitsANetwork(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Visitors: Visitors{PerMinute: 3}})
		for _, tc := range []struct{ name, a, b, other string }{
			{"IPv4 /32", "203.0.113.9:1", "203.0.113.9:2", "203.0.113.10:1"},
			{"IPv6 /64", "[2001:db8:1:2::1]:1", "[2001:db8:1:2:ffff::9]:1", "[2001:db8:1:3::1]:1"},
			{"IPv4-mapped IPv6", "[::ffff:192.0.2.77]:1", "192.0.2.77:3", "192.0.2.78:1"},
		} {
			for i := range 3 {
				addr := tc.a
				if i%2 == 1 {
					addr = tc.b
				}
				if code := f.visit(addr, "/put?k=cart&v=1"); code != 200 {
					t.Fatalf("%s: new session %d: got %d, want 200", tc.name, i+1, code)
				}
			}
			before := f.st.writes()
			r := httptest.NewRequest("GET", "/put?k=cart&v=1", nil)
			r.RemoteAddr = tc.b
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			if w.Code != 429 || w.Header().Get("Retry-After") == "" {
				t.Errorf("%s: 4th new session in a minute: got %d, Retry-After %q; want 429 with Retry-After", tc.name, w.Code, w.Header().Get("Retry-After"))
			}
			if f.st.writes() != before {
				t.Errorf("%s: a refused visitor wrote to the store", tc.name)
			}
			if code := f.visit(tc.other, "/put?k=cart&v=1"); code != 200 {
				t.Errorf("%s: another network: got %d, want 200", tc.name, code)
			}
		}
		if n := f.events.countReason(event.Rejected, event.ReasonNewSessions); n != 3 {
			t.Errorf("got %d %s events, want one per network", n, event.ReasonNewSessions)
		}
		// A signed-in session is never counted as a visitor's.
		r := httptest.NewRequest("GET", "/login?u=alice", nil)
		r.RemoteAddr = "203.0.113.9:5"
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("login from a limited network: got %d, want 200", w.Code)
		}
		time.Sleep(time.Minute)
		if code := f.visit("203.0.113.9:1", "/put?k=cart&v=1"); code != 200 {
			t.Errorf("the next minute: got %d, want 200", code)
		}
	})
}

// Visitors.Idle expires anonymous sessions sooner than signed-in ones.
func TestVisitorsIdleAppliesToAnonymousSessionsOnly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := memory.New(memory.Config{})
		f := newFixture(t, Config{Store: st, Timeouts: Timeouts{Idle: time.Hour, Absolute: 24 * time.Hour}, Visitors: Visitors{Idle: 5 * time.Minute}})
		visitor, user := f.client(), f.client()
		visitor.get("/put?k=cart&v=1")
		user.get("/login?u=alice")
		time.Sleep(6 * time.Minute)
		if got := visitor.get("/get?k=cart"); got != "" {
			t.Errorf("an anonymous session idle past Visitors.Idle still holds %q", got)
		}
		if got := user.get("/user"); got != "alice" {
			t.Errorf("a signed-in session idle 6 min of its hour: got user %q, want alice", got)
		}
	})
}

// A store that refuses a new anonymous session (store.ErrFull) gets the
// visitor a 503 and reports a store-full event, which the default logger
// budgets.
func TestStoreFullRefusalIsAnEvent(t *testing.T) {
	t.Parallel()
	st := memory.New(memory.Config{MaxSessions: 2, Logger: slog.New(slog.DiscardHandler)})
	f := newFixture(t, Config{Store: st})
	for _, u := range []string{"a", "b"} {
		f.client().get("/login?u=" + u)
	}
	if code := f.visit("192.0.2.1:1", "/put?k=cart&v=1"); code != 503 {
		t.Errorf("a visitor in a store full of signed-in users: got %d, want 503", code)
	}
	if !f.events.has(event.Rejected, event.ReasonStoreFull) {
		t.Error("no store-full event")
	}
	if st.Refusals() != 1 || st.Len() != 2 {
		t.Errorf("got %d refusals and %d records, want 1 and the 2 signed-in", st.Refusals(), st.Len())
	}
}

// Update on a new anonymous session counts against Visitors.PerMinute
// like a commit does.
func TestVisitorsPerMinuteCountsUpdate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Visitors: Visitors{PerMinute: 2}})
	f.mux.HandleFunc("/cart", func(w http.ResponseWriter, r *http.Request) {
		_, err := Update(r.Context(), FromContext(r.Context()), "n", func(n int) int { return n + 1 })
		switch {
		case errors.Is(err, ErrTooManySessions):
			http.Error(w, err.Error(), http.StatusTooManyRequests)
		case err != nil:
			http.Error(w, err.Error(), 500)
		}
	})
	for i, want := range []int{200, 200, 429} {
		if code := f.visit("203.0.113.5:1", "/cart"); code != want {
			t.Errorf("new session %d by Update: got %d, want %d", i+1, code, want)
		}
	}
}

// Visitors.Max bounds the anonymous sessions of a store that has no bound
// of its own, never touching signed-in ones; a store that cannot count
// them is refused at New.
func TestVisitorsMaxBoundsAnonymousSessions(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Store: memory.New(memory.Config{Logger: slog.New(slog.DiscardHandler)}), Visitors: Visitors{Max: 3}})
		for i := range 3 {
			if code := f.visit("192.0.2.1:1", "/put?k=cart&v=1"); code != 200 {
				t.Fatalf("anonymous session %d: got %d, want 200", i+1, code)
			}
		}
		if code := f.visit("192.0.2.1:1", "/put?k=cart&v=1"); code != 503 {
			t.Errorf("the 4th anonymous session with Max 3: got %d, want 503", code)
		}
		if !f.events.has(event.Rejected, event.ReasonStoreFull) {
			t.Error("no store-full event")
		}
		c := f.client()
		c.get("/login?u=alice")
		if c.get("/user") != "alice" {
			t.Error("a login was refused while anonymous sessions are at their bound")
		}
	})
	if _, err := New(Config{Store: &countingStore{Store: memory.New(memory.Config{})}, Visitors: Visitors{Max: 1}}); err == nil {
		t.Error("New accepted Visitors.Max with a store that cannot count anonymous sessions")
	}
}
