package attack

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store/memory"
)

// forger returns a function that mints session cookies the way an
// attacker holding the session key could: authentic, but for random IDs
// the server never issued. It is a Manager with the app's keys over a
// store of its own.
func (a *app) forger() func() string {
	m, err := keycard.New(keycard.Config{Keys: a.keys, Store: memory.New(memory.Config{}),
		Logger: slog.New(slog.DiscardHandler), OnEvent: func(event.Event) {}})
	if err != nil {
		a.t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("x", 1)
	}))
	return func() string {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "https://attacker.test/", nil))
		for _, c := range w.Result().Cookies() {
			if c.Name == cookieName {
				return c.Value
			}
		}
		a.t.Fatal("the forger minted no cookie")
		return ""
	}
}

// Attack scenario 1 (S-03, S-15): the attacker starts a session, plants
// its cookie in the victim's browser (cookie tossing from a sibling
// subdomain, a shared computer), and waits for the victim to log in. The
// login moves the victim to a new ID; the planted cookie reads nothing,
// and its record is gone from the store.
func TestFixationByAPlantedCookie(t *testing.T) {
	a := newApp(t)
	attacker := a.client()
	attacker.get("/")
	planted := attacker.session()
	if planted == "" || !a.stored(planted) {
		t.Fatal("the attacker got no stored session")
	}
	victim := a.client()
	victim.setSession(planted)
	victim.mustLogin("victim")
	if got := victim.session(); got == planted || got == "" {
		t.Fatalf("login kept the planted ID")
	}
	if got := attacker.me(); got != "" {
		t.Errorf("the planted cookie reads the victim's session: %q", got)
	}
	if got := victim.me(); got != "victim" {
		t.Errorf("the victim reads %q", got)
	}
	if a.stored(planted) {
		t.Error("the planted session's record survived the login")
	}
}

// Attack scenario 1, second variant (S-03): the attacker plants an ID of
// its own choosing, well formed, either with a made-up MAC or authentic
// (minted with the session key) but never issued by the server. Neither
// is adopted: the server stores nothing for the visitor until the session
// gets a value, then stores a fresh session with an ID of its own, never
// anything under the attacker's ID, and reports the attempt.
func TestFixationByAnAttackerChosenID(t *testing.T) {
	a := newApp(t)
	seed := a.client()
	seed.get("/")
	kid := cookieKeyID(seed.session())
	forge := a.forger()
	random, randomID := randomCookie(kid)
	authentic := forge()
	authenticID, _ := cookieID(authentic)
	for name, tc := range map[string]struct {
		cookie string
		event  event.Reason
		id     []byte
	}{
		"a random well-formed ID": {random, event.ReasonBadMAC, randomID},
		"an authentic unknown ID": {authentic, event.ReasonUnknown, authenticID},
	} {
		before := a.events("rejected", tc.event)
		victim := a.client()
		victim.setSession(tc.cookie)
		victim.token() // stores nothing: the victim is a visitor
		if a.stored(tc.cookie) {
			t.Errorf("%s: adopted before login", name)
		}
		victim.get("/") // counts a visit: the visitor's session is stored
		pre := victim.session()
		if pre == tc.cookie || pre == "" {
			t.Errorf("%s: adopted when the visitor's session was stored", name)
		}
		victim.mustLogin("victim")
		if got := victim.session(); got == tc.cookie || got == pre {
			t.Errorf("%s: login did not move to a new ID", name)
		}
		if _, err := a.st.Store.Load(t.Context(), storeKey(tc.id)); err == nil {
			t.Errorf("%s: the store holds a record under the attacker's ID", name)
		}
		if a.events("rejected", tc.event) <= before {
			t.Errorf("%s: no %q event", name, tc.event)
		}
	}
}
