package oidc

import (
	"net/http"
)

// FrontChannelLogout returns the handler of the front-channel logout URI
// registered at the provider (OpenID Connect Front-Channel Logout 1.0),
// with frontchannel_logout_session_required: the provider's logout page
// loads it in an iframe, with the "iss" and "sid" query parameters, and it
// revokes the sessions that signed in with that provider session. It
// answers 200 (whether or not a session matched) or 400 for missing,
// repeated or foreign parameters, always with Cache-Control: no-store.
//
// The iframe is cross-site, so browsers do not send it the SameSite=Lax
// session cookie: the handler finds the sessions by (iss, sid) in the
// store, as BackChannelLogout does, and reads no cookie. The request is
// not signed, so anyone who knows a provider session ID can end the
// sessions of that provider session; session IDs are opaque random
// values, but prefer back-channel logout where the provider offers it.
// Mount it beside the Manager's Handler, and let the provider frame it
// (no X-Frame-Options: DENY on this path):
//
//	root.Handle("GET /oidc/frontchannel-logout", rp.FrontChannelLogout())
//
// It panics if the Manager does not store sessions in a store with a user
// index (store.UserIndex).
func (c *Client) FrontChannelLogout() http.Handler {
	c.mustIndex("FrontChannelLogout")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		iss, sid := q["iss"], q["sid"]
		if len(iss) != 1 || iss[0] != c.issuer || len(sid) != 1 || sid[0] == "" || len(sid[0]) > maxClaimLen {
			c.reject(w, r, ReasonFrontChannel, refuse(ErrLogoutToken, "front-channel request without one iss of this issuer and one sid"))
			return
		}
		n, err := c.endSessions(r.Context(), "", sid[0])
		if err != nil {
			c.logoutFailed(w, r, err)
			return
		}
		c.loggedOut(r, ReasonFrontChannel, n)
		w.WriteHeader(http.StatusOK)
	})
}
