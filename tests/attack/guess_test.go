package attack

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// sink is a ResponseWriter that keeps only the status, for floods.
type sink struct {
	h    http.Header
	code int
}

func (s *sink) Header() http.Header { return s.h }
func (s *sink) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}
func (s *sink) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
}

// flood serves n requests for /me through h from all CPUs, with cookie
// values from the generators gen makes (one per worker), and returns how
// many were answered 200.
func flood(h http.Handler, n int, gen func() func() string) int64 {
	var hits, done atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		next := gen()
		wg.Go(func() {
			r := httptest.NewRequest("GET", "https://127.0.0.1/me", nil)
			w := &sink{h: http.Header{}}
			for done.Add(1) <= int64(n) {
				r.Header["Cookie"] = []string{cookieName + "=" + next()}
				clear(w.h)
				w.code = 0
				h.ServeHTTP(w, r)
				if w.code == http.StatusOK {
					hits.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return hits.Load()
}

// Attack scenario 11, guessing (S-01, S-04, S-66): an attacker who
// guesses session IDs gets nowhere.
//
//  1. One million random, well-formed cookie values (the right length,
//     version and key ID, random ID and tag) sent in process through
//     Keycard's middleware (Manager.Handler): no hit, every one refused
//     at the MAC, and not one store call.
//  2. Even an attacker holding the session key, who can sign any ID,
//     must guess a live 256-bit ID: 10,000 authentic cookies for random
//     IDs, through the whole app, each cost one store lookup and find
//     nothing.
//  3. One million random IDs looked up directly in the store's key space
//     find nothing, and the chance that any guess ever does is bounded:
//     with S live sessions and G guesses, P(hit) <= S*G/2^256.
func TestGuessedSessionIDs(t *testing.T) {
	var badMAC, unknown atomic.Int64
	a := newApp(t, func(c *appConfig) {
		c.keycard.OnEvent = func(ev event.Event) {
			switch {
			case ev.Kind == event.Rejected && ev.Reason == event.ReasonBadMAC:
				badMAC.Add(1)
			case ev.Kind == event.Rejected && ev.Reason == event.ReasonUnknown:
				unknown.Add(1)
			}
		}
	})
	const users = 40
	for i := range users {
		a.client().mustLogin(fmt.Sprintf("user%02d", i))
	}
	seed := a.client()
	seed.mustLogin("seed")
	kid := cookieKeyID(seed.session())
	h := *a.handler.Load()

	n, signed, probes := 1_000_000, 10_000, 1_000_000
	if testing.Short() {
		n, signed, probes = 100_000, 1_000, 100_000
	}
	// Keycard's middleware around a handler that answers 200 only for a
	// logged-in session: the whole path a guess takes, minus the app's
	// routing, which the race detector would make ten times dearer.
	probe := a.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if keycard.FromContext(r.Context()).UserID() == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	start := time.Now()
	loads := a.st.loads.Load()
	hits := flood(probe, n, func() func() string {
		var raw [69]byte
		return func() string {
			crand.Read(raw[5:])
			raw[0] = 1
			copy(raw[1:5], kid)
			return b64.EncodeToString(raw[:])
		}
	})
	if hits != 0 {
		t.Errorf("%d of %d random cookies authenticated", hits, n)
	}
	if got := badMAC.Load(); got != int64(n) {
		t.Errorf("%d bad-mac events for %d random cookies, want one each", got, n)
	}
	if got := a.st.loads.Load() - loads; got != 0 {
		t.Errorf("%d random cookies caused %d store loads, want 0", n, got)
	}

	phase1 := time.Since(start)
	start = time.Now()
	forge := a.forger()
	cookies := make(chan string, 256)
	go func() {
		defer close(cookies)
		for range signed {
			cookies <- forge()
		}
	}()
	var mu sync.Mutex
	loads = a.st.loads.Load()
	hits = flood(h, signed, func() func() string {
		return func() string {
			mu.Lock()
			defer mu.Unlock()
			return <-cookies
		}
	})
	if hits != 0 {
		t.Errorf("%d of %d authentic cookies for random IDs authenticated", hits, signed)
	}
	if got, want := a.st.loads.Load()-loads, int64(signed); got != want || unknown.Load() != want {
		t.Errorf("%d authentic cookies: %d store loads and %d unknown-id events, want %d of each", signed, got, unknown.Load(), want)
	}

	phase2 := time.Since(start)
	start = time.Now()
	var id [32]byte
	found := 0
	for range probes {
		crand.Read(id[:])
		if _, err := a.st.Store.Load(context.Background(), storeKey(id[:])); !errors.Is(err, store.ErrNotFound) {
			found++
		}
	}
	if found != 0 {
		t.Errorf("%d of %d random IDs name a live session", found, probes)
	}
	phase3 := time.Since(start)
	live := a.st.Store.Len()
	if live < users {
		t.Fatalf("the store holds %d sessions, want at least %d", live, users)
	}
	// The bound, for a big deployment: a million live sessions and a
	// trillion guesses a second for a century.
	const sessions, guesses = 1e6, 1e12 * 3600 * 24 * 365 * 100
	bound := sessions * guesses / math.Pow(2, 256)
	t.Logf("%d random cookies (0 store calls, %v), %d authentic cookies for random IDs (%v) and %d key-space probes (%v) against %d live sessions: no hit. "+
		"With %.0e live sessions and %.1e guesses, P(any hit) <= %.1e",
		n, phase1.Round(time.Millisecond), signed, phase2.Round(time.Millisecond), probes, phase3.Round(time.Millisecond), live, sessions, float64(guesses), bound)
	if bound > 1e-40 {
		t.Errorf("the bound %.1e is not negligible", bound)
	}
}
