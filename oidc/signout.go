package oidc

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/keycard-go/keycard"
)

// pendingLogout is an RP-initiated logout in progress, kept in the fresh
// session that the logout left, until the provider sends the browser back.
type pendingLogout struct {
	State    string
	ReturnTo string
	Expires  time.Time
}

// SignOut logs the request's session out (Manager.Logout) and, when it was
// signed in through this Client and the provider has an
// end_session_endpoint, redirects (303) the browser there to end the
// provider's session too (OpenID Connect RP-Initiated Logout 1.0), with
// the session's ID token as id_token_hint, the client ID, and, when
// Config.PostLogoutRedirectURL is set, that URL and a new state, which
// PostLogoutHandler checks before returning the browser to returnTo.
// Otherwise it redirects straight to returnTo. returnTo is a path as
// ReturnPath accepts; anything else means Config.DefaultReturnTo.
//
// Call it from a POST handler protected against CSRF (inside csrf's
// Handler), so that no other site can log users out. The request must be
// served by the Manager's Handler.
func (c *Client) SignOut(w http.ResponseWriter, r *http.Request, returnTo string) error {
	s := keycard.FromContext(r.Context())
	if s == nil {
		return errNoSession
	}
	id, signedIn := IdentityOf(s)
	hint, _ := keycard.Get[string](s, idTokenKey)
	if err := c.m.Logout(r.Context(), s); err != nil {
		return fmt.Errorf("oidc: sign out: %w", err)
	}
	back := c.returnPath(returnTo)
	w.Header().Set("Cache-Control", "no-store")
	if !signedIn || id.Issuer != c.issuer || c.endSession == "" {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	u, err := url.Parse(c.endSession)
	if err != nil {
		return fmt.Errorf("oidc: sign out: %w", err)
	}
	q := u.Query()
	q.Set("client_id", c.cfg.ClientID)
	if hint != "" {
		q.Set("id_token_hint", hint)
	}
	if c.cfg.PostLogoutRedirectURL != "" {
		p := pendingLogout{State: rand.Text(), ReturnTo: back, Expires: time.Now().Add(c.cfg.FlowTimeout)}
		if err := s.Put(logoutKey, p); err != nil {
			return fmt.Errorf("oidc: sign out: %w", err)
		}
		q.Set("post_logout_redirect_uri", c.cfg.PostLogoutRedirectURL)
		q.Set("state", p.State)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
	return nil
}

// SignOutHandler returns a handler that signs out with SignOut, returning
// to the path in the "return_to" form field. Mount it for POST inside the
// Manager's Handler and csrf's:
//
//	mux.Handle("POST /logout", rp.SignOutHandler())
func (c *Client) SignOutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		if err := c.SignOut(w, r, r.PostFormValue("return_to")); err != nil {
			c.fail(w, r, err)
		}
	})
}

// PostLogoutHandler returns the handler of Config.PostLogoutRedirectURL,
// where the provider sends the browser back after an RP-initiated logout.
// It redirects (303) to the return path SignOut was given when the "state"
// parameter is the one SignOut sent (once, within Config.FlowTimeout),
// and to Config.DefaultReturnTo otherwise. Mount it for GET inside the
// Manager's Handler.
func (c *Client) PostLogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		if s == nil {
			c.fail(w, r, errNoSession)
			return
		}
		back := c.cfg.DefaultReturnTo
		if p, ok := keycard.Get[pendingLogout](s, logoutKey); ok {
			s.Delete(logoutKey)
			if q := r.URL.Query(); len(q["state"]) == 1 && sameString(q.Get("state"), p.State) && time.Now().Before(p.Expires) {
				back = p.ReturnTo
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, back, http.StatusSeeOther)
	})
}
