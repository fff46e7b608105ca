package keycard

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// StepUp guards a sensitive action ("log out everywhere", revoking another
// device, changing a password) with recent authentication: its Handler
// lets a request through only when the session's user authenticated
// within MaxAge (SessionInfo.AuthTime) and Check, if set, approves. Any other
// request, anonymous ones included, goes to Reauth instead, after the
// page to come back to is recorded in the session (see ReturnTo).
//
// Reauth re-authenticates the user however the application signs users
// in: a password form, or an identity provider asked for a fresh login
// (OpenID Connect's max_age=0 or prompt=login, and acr_values for Check).
// Once the user has proved who they are, it calls Manager.Login for the
// same user, which renews the session and restarts the clock, and
// redirects to ReturnTo.
type StepUp struct {
	// MaxAge is how recently the user must have authenticated. Zero
	// requires an authentication in this very session, however old.
	MaxAge time.Duration

	// Check, if set, is a further requirement on the session, such as the
	// assurance level (acr) an identity provider reported at sign-in.
	Check func(s *Session) bool

	// Reauth serves the requests that fall short. It must not be nil.
	Reauth http.Handler
}

// returnKey holds the page a StepUp sent the user from. It survives
// Login, which the re-authentication ends with.
const returnKey = reservedPrefix + "return-to"

// Handler returns middleware that runs next for requests whose session
// meets the StepUp, and Reauth for the others. It must be installed
// inside Manager.Handler.
func (su StepUp) Handler(next http.Handler) http.Handler {
	if su.Reauth == nil {
		panic("keycard: StepUp needs a Reauth handler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if su.met(s) {
			next.ServeHTTP(w, r)
			return
		}
		if back := returnPath(r); back != "" {
			s.Put(returnKey, back)
		}
		su.Reauth.ServeHTTP(w, r)
	})
}

// met reports whether s meets the StepUp.
func (su StepUp) met(s *Session) bool {
	if s.UserID() == "" || s.Info().Actor != "" {
		return false // nobody, or someone acting as another
	}
	at := s.Info().AuthTime
	if at.IsZero() || su.MaxAge > 0 && time.Since(at) > su.MaxAge {
		return false
	}
	return su.Check == nil || su.Check(s)
}

// returnPath returns the same-site page to come back to after r's
// re-authentication: r itself for a safe method, else the page that sent
// r (its same-origin Referer), since a form post cannot be replayed; ""
// if there is none.
func returnPath(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return localPath(r.URL.RequestURI())
	}
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host != r.Host {
		return ""
	}
	return localPath(ref.RequestURI())
}

// localPath returns p if it is a path on this site, else "": it refuses
// what a browser would read as another site ("//host", "/\host") and
// control characters.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return ""
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	return p
}

// ReturnTo returns, and forgets, the page a StepUp sent the session's
// user from, for the re-authentication to redirect to; "" if there is
// none. It is always a path on this site.
func ReturnTo(s *Session) string {
	p, _ := Get[string](s, returnKey)
	s.Delete(returnKey)
	return localPath(p)
}
