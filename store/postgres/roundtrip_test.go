package postgres_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store/postgres"
)

// manager is a keycard Manager over a store, with handlers that read and
// write a session, and the cookie of one client.
type manager struct {
	h      http.Handler
	cookie *http.Cookie
}

func newManager(t *testing.T, s *postgres.Store, idle time.Duration) *manager {
	m, err := keycard.New(keycard.Config{Store: s, Keys: []keycard.Key{keycard.NewKey()}, Timeouts: keycard.Timeouts{Idle: idle}, OnEvent: func(event.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		if err := keycard.FromContext(r.Context()).Put("k", r.FormValue("v")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := keycard.Get[string](keycard.FromContext(r.Context()), "k")
		w.Write([]byte(v))
	})
	return &manager{h: m.Handler(mux)}
}

// do serves one request and returns the body.
func (m *manager) do(t *testing.T, target string) string {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	if m.cookie != nil {
		r.AddCookie(m.cookie)
	}
	w := httptest.NewRecorder()
	m.h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", target, w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		m.cookie = c
	}
	return w.Body.String()
}

// TestRequestsCostOneRoundTripPerStoreCall counts, with pgx's tracer and
// the connection's writes, what each kind of request sends the server once
// the connection has prepared its statements.
func TestRequestsCostOneRoundTripPerStoreCall(t *testing.T) {
	t.Parallel()
	c := &counter{}
	pool := countedPool(t, c, func(cfg *pgxpool.Config) {
		cfg.MaxConns = 1
		// pgxpool pings a connection idle for a second or more before
		// handing it out: one more round trip on a quiet pool.
		cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	})
	s := newStore(t, pool, postgres.Config{})
	// A read request touches the session once a tenth of the idle timeout
	// has passed since it was last seen. With an hour, none does by
	// itself, however slow the machine; for the ones that must, the
	// stored last_seen is moved back past that tenth, through another
	// pool, whose statements are not counted.
	const idle = time.Hour
	m := newManager(t, s, idle)
	age := func() {
		t.Helper()
		if _, err := sharedPool(t).Exec(t.Context(), "UPDATE "+s.Table()+" SET last_seen = last_seen - $1", int64(idle/10)); err != nil {
			t.Fatal(err)
		}
	}

	type want struct{ reads, writes, roundTrips int }
	// check runs request and checks its counts against w, if not nil.
	check := func(what string, w *want, request func()) {
		t.Helper()
		c.reset()
		request()
		reads, writes, prepares, roundTrips := c.counts()
		t.Logf("%s: %d read statements, %d write statements, %d prepares, %d round trips", what, reads, writes, prepares, roundTrips)
		if w != nil && (prepares != 0 || reads != w.reads || writes != w.writes || roundTrips != w.roundTrips) {
			t.Errorf("%s: got %d reads, %d writes, %d prepares in %d round trips, want %d, %d, 0 in %d",
				what, reads, writes, prepares, roundTrips, w.reads, w.writes, w.roundTrips)
		}
	}
	// Each statement's first run on a connection also prepares it.
	check("first write request of a new session (cold)", nil, func() { m.do(t, "/put?v=1") })
	check("write request (cold)", nil, func() { m.do(t, "/put?v=2") })
	check("read request (cold)", nil, func() { m.do(t, "/get") })
	age()
	check("read request that touches (cold)", nil, func() { m.do(t, "/get") })

	other := newManager(t, s, idle)
	check("first write request of a new session", &want{0, 1, 1}, func() { other.do(t, "/put?v=1") })
	check("write request", &want{1, 1, 2}, func() { m.do(t, "/put?v=3") })
	check("read request", &want{1, 0, 1}, func() {
		if got := m.do(t, "/get"); got != "3" {
			t.Errorf("read request: got %q, want 3", got)
		}
	})
	age()
	check("read request that touches", &want{1, 1, 2}, func() { m.do(t, "/get") })
}
