package keycardotel_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/keycard-go/keycard"
	keycardotel "github.com/keycard-go/keycard/contrib/otel"
)

// TestSpansOfARequest checks the store spans and span events that each
// kind of request leaves under its request's span.
func TestSpansOfARequest(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := newBrowser(t, a.ts)

	b.do("POST", "/login")
	login := a.request(t, "POST /login")
	// A visitor without a session logs in: the new session is saved
	// under its first ID, then renewed (saved under a new one, the first
	// deleted).
	if got, want := events(login), []string{"keycard.created", "keycard.renewed/login"}; !slices.Equal(got, want) {
		t.Errorf("login's span events: got %v, want %v", got, want)
	}
	for _, c := range a.children(login) {
		if c != "keycard.store.save=ok" && c != "keycard.store.delete=ok" {
			t.Errorf("login's store spans: got %v, want saves and deletes", a.children(login))
			break
		}
	}

	if got := b.do("GET", "/me"); got != "alice" {
		t.Fatalf("GET /me: got %q, want alice", got)
	}
	read := a.request(t, "GET /me")
	if got, want := a.children(read), []string{"keycard.store.load=ok"}; !slices.Equal(got, want) {
		t.Errorf("a read's store spans: got %v, want %v (one load, no save)", got, want)
	}
	if got := events(read); len(got) != 0 {
		t.Errorf("a read's span events: got %v, want none", got)
	}

	b.do("POST", "/visit")
	write := a.request(t, "POST /visit")
	if got, want := a.children(write), []string{"keycard.store.load=ok", "keycard.store.save=ok"}; !slices.Equal(got, want) {
		t.Errorf("a write's store spans: got %v, want %v", got, want)
	}

	a.store.armed.Store(true) // another instance writes the session first
	b.do("POST", "/visit")
	conflict := a.request(t, "POST /visit")
	// The lost compare-and-set is a save span with result conflict; the
	// Manager reloads the record and saves again, and reports the retry
	// as an event on the request's span.
	if got, want := a.children(conflict), []string{"keycard.store.load=ok", "keycard.store.save=conflict",
		"keycard.store.load=ok", "keycard.store.save=ok"}; !slices.Equal(got, want) {
		t.Errorf("a conflicting write's store spans: got %v, want %v", got, want)
	}
	if got, want := events(conflict), []string{"keycard.conflict-retried"}; !slices.Equal(got, want) {
		t.Errorf("a conflicting write's span events: got %v, want %v", got, want)
	}

	saved := b.cookie()
	b.do("POST", "/logout")
	logout := a.request(t, "POST /logout")
	if got, want := events(logout), []string{"keycard.destroyed/logout"}; !slices.Equal(got, want) {
		t.Errorf("logout's span events: got %v, want %v", got, want)
	}
	if got := a.children(logout); len(got) < 2 || got[0] != "keycard.store.load=ok" || got[len(got)-1] != "keycard.store.delete=ok" {
		t.Errorf("logout's store spans: got %v, want a load first and a delete last", got)
	}

	// The logged-out cookie again: an authentic ID with no record.
	newBrowser(t, a.ts).do("GET", "/me", saved)
	stale := a.request(t, "GET /me")
	if got, want := a.children(stale), []string{"keycard.store.load=not_found"}; !slices.Equal(got, want) {
		t.Errorf("a stale cookie's store spans: got %v, want %v", got, want)
	}
	if got, want := events(stale), []string{"keycard.rejected/unknown-id"}; !slices.Equal(got, want) {
		t.Errorf("a stale cookie's span events: got %v, want %v", got, want)
	}

	// A cookie signed with another key is refused before any store call.
	newBrowser(t, a.ts).do("GET", "/me", foreignCookie(t))
	forged := a.request(t, "GET /me")
	if got := a.children(forged); len(got) != 0 {
		t.Errorf("a forged cookie's store spans: got %v, want none", got)
	}
	if got, want := events(forged), []string{"keycard.rejected/bad-mac"}; !slices.Equal(got, want) {
		t.Errorf("a forged cookie's span events: got %v, want %v", got, want)
	}

	// Every store span names the store, and the metrics agree with the
	// spans.
	for _, sp := range a.ended() {
		if sp.InstrumentationScope().Name == keycardotel.ScopeName {
			if got := value(sp.Attributes(), keycardotel.AttrStoreName); got != "memory" {
				t.Errorf("%s: keycard.store.name: got %q, want memory", sp.Name(), got)
			}
		}
	}
	tally := map[[2]string]uint64{}
	for _, sp := range a.ended() {
		if op, ok := strings.CutPrefix(sp.Name(), "keycard.store."); ok {
			tally[[2]string{op, value(sp.Attributes(), keycardotel.AttrStoreResult)}]++
		}
	}
	if tally[[2]string{"save", "conflict"}] != 1 {
		t.Errorf("conflicting saves: got %d, want 1", tally[[2]string{"save", "conflict"}])
	}
	for _, op := range []string{"load", "save", "delete", "touch"} {
		for _, result := range []string{"ok", "not_found", "conflict", "error"} {
			if got, want := a.calls(t, op, result), tally[[2]string{op, result}]; got != want {
				t.Errorf("keycard.store.duration{op=%s,result=%s} count: got %d, want %d (the spans)", op, result, got, want)
			}
		}
	}
	for _, c := range []struct {
		kind, reason string
		want         int64
	}{
		{"created", "none", 1}, {"renewed", "login", 1}, {"conflict-retried", "none", 1},
		{"destroyed", "logout", 1}, {"rejected", "unknown-id", 1}, {"rejected", "bad-mac", 1},
		{"expired", "idle-timeout", 0},
	} {
		if got, _ := a.counter(t, c.kind, c.reason); got != c.want {
			t.Errorf("keycard.events{kind=%s,reason=%s}: got %d, want %d", c.kind, c.reason, got, c.want)
		}
	}
}

// foreignCookie returns a session cookie signed by another Manager's key.
func foreignCookie(t *testing.T) *http.Cookie {
	t.Helper()
	other, _ := keycard.New(keycard.Config{})
	w := httptest.NewRecorder()
	other.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("k", 1)
	})).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	return w.Result().Cookies()[0]
}
