package csrf_test

import (
	"net/http"
	"testing"

	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
)

// TestOriginMatrix checks the origin layer (S-57) for every pair of
// Sec-Fetch-Site and Origin a request may carry, against the application
// at https://app.example.com, with a valid token and without one.
//
// The documented outcomes, from http.CrossOriginProtection:
//
//   - Sec-Fetch-Site same-origin or none: the browser vouches for the
//     request; Origin is not consulted.
//   - Sec-Fetch-Site same-site or cross-site: rejected (no origin is
//     trusted here).
//   - No Sec-Fetch-Site (an old browser, or not a browser): rejected if
//     Origin is present and its host differs from the Host header, so the
//     lookalike host and "null" are rejected. The http:// downgrade of the
//     site's own origin passes this layer, because the Host header carries
//     no scheme; it cannot pass the token layer, since a page on the http
//     origin cannot read the https site's tokens.
//
// Without a token every request is rejected, by the origin layer or
// else by the token layer.
func TestOriginMatrix(t *testing.T) {
	t.Parallel()
	origins := []struct{ name, value string }{
		{"self", site},
		{"lookalike", "https://app.example.com.evil.net"},
		{"http downgrade", "http://app.example.com"},
		{"null", "null"},
		{"absent", ""},
	}
	// passes[sfs][origin] says whether the origin layer lets a request
	// through, by index into origins.
	passes := map[string][5]bool{
		"same-origin": {true, true, true, true, true},
		"none":        {true, true, true, true, true},
		"same-site":   {false, false, false, false, false},
		"cross-site":  {false, false, false, false, false},
		"":            {true, false, true, false, true},
	}
	a := newApp(t, csrf.Config{})
	for _, sfs := range []string{"same-origin", "same-site", "cross-site", "none", ""} {
		for i, o := range origins {
			for _, withToken := range []bool{true, false} {
				name := "Sec-Fetch-Site=" + sfs + "/Origin=" + o.name
				if sfs == "" {
					name = "Sec-Fetch-Site absent/Origin=" + o.name
				}
				if withToken {
					name += "/with token"
				} else {
					name += "/without token"
				}
				t.Run(name, func(t *testing.T) {
					b := a.browser(t)
					tok := b.token()
					a.csrfEvents()
					r := req(http.MethodPost, "/submit", nil)
					if sfs != "" {
						r.Header.Set("Sec-Fetch-Site", sfs)
					}
					if o.value != "" {
						r.Header.Set("Origin", o.value)
					}
					if withToken {
						r.Header.Set("X-CSRF-Token", tok)
					}
					before := a.writes.Load()
					res := b.do(r)

					want, reason := http.StatusOK, event.Reason("")
					switch {
					case !passes[sfs][i]:
						want, reason = http.StatusForbidden, csrf.ReasonCrossOrigin
					case !withToken:
						want, reason = http.StatusForbidden, csrf.ReasonMissingToken
					}
					if res.code != want {
						t.Fatalf("got %d, want %d", res.code, want)
					}
					if reason == "" {
						a.wantNoEvents(t)
						return
					}
					a.wantReason(t, reason)
					if a.writes.Load() != before {
						t.Error("a rejected request ran the handler")
					}
					if len(res.cookies) != 0 {
						t.Errorf("a rejected request set cookies: %v", res.cookies)
					}
				})
			}
		}
	}
}
