package event_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
)

// An OnEvent hook that tells forged cookies apart from sessions that
// merely ended: the first deserve an alert, the second are routine.
func Example() {
	var forged, unknown int
	m, err := keycard.New(keycard.Config{
		Logger: slog.New(slog.DiscardHandler),
		OnEvent: func(ev event.Event) {
			switch {
			case ev.Kind == event.Rejected && ev.Reason == event.ReasonBadMAC:
				forged++
			case ev.Kind == event.Rejected && ev.Reason == event.ReasonUnknown:
				unknown++
			}
		},
	})
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).UserID() // loads the session
	}))

	// A cookie signed with a key this Manager does not hold: another
	// Manager's (a forger's) session cookie.
	other, _ := keycard.New(keycard.Config{})
	rec := httptest.NewRecorder()
	other.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("k", 1)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	h.ServeHTTP(httptest.NewRecorder(), r)
	fmt.Println("forged:", forged, "unknown:", unknown)
	// Output: forged: 1 unknown: 0
}
