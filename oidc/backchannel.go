package oidc

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/keycard-go/keycard/event"
)

// maxLogoutBody bounds a back-channel logout request's body.
const maxLogoutBody = 64 << 10

// BackChannelLogout returns the handler of the back-channel logout URI
// registered at the provider (OpenID Connect Back-Channel Logout 1.0). The
// provider POSTs a logout_token to it, server to server; the handler
// verifies it (see below), refuses a token whose jti it has seen before
// (remembered in the Manager's store, so on every instance), and then
// revokes the sessions of that provider session (issuer and sid) or,
// without a sid, every session of that provider account (issuer and sub)
// that signed in through this Client: their cookies, and the refresh
// tokens of package token, which live inside the sessions, stop working
// at once. It answers 200 when the token was valid, whether or not a
// session matched, and 400 otherwise, always with Cache-Control: no-store.
//
// The token is checked as strictly as an ID token: its signature against
// the provider's published keys, issuer, audience (and authorized party),
// expiry, an issue time within Config.LogoutTokenMaxAge, and then the
// header type "logout+jwt", the back-channel logout event, a sub or a sid,
// a jti, and no nonce.
//
// The handler needs no session and reads no cookie: it authenticates the
// provider by the token's signature alone. Mount it beside the Manager's
// Handler, not inside it, so that neither the Manager nor package csrf
// (whose token check a server-to-server POST cannot pass) stands in its
// way:
//
//	root := http.NewServeMux()
//	root.Handle("POST /oidc/backchannel-logout", rp.BackChannelLogout())
//	root.Handle("/", m.Handler(protect.Handler(app)))
//
// It panics if the Manager does not store sessions in a store with a user
// index (store.UserIndex), where no session could be found.
func (c *Client) BackChannelLogout() http.Handler {
	c.mustIndex("BackChannelLogout")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		if r.Method != http.MethodPost {
			h.Set("Allow", http.MethodPost)
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		raw, ok := logoutTokenParam(w, r)
		if !ok {
			c.reject(w, r, ReasonBackChannel, refuse(ErrLogoutToken, "not a form POST with one logout_token"))
			return
		}
		lt, err := c.verifyLogoutToken(r.Context(), raw)
		if err != nil {
			c.reject(w, r, ReasonBackChannel, err)
			return
		}
		ctx := r.Context()
		until := earliest(lt.Expiry, lt.IssuedAt.Add(c.cfg.LogoutTokenMaxAge+leeway)).Add(time.Second)
		first, err := c.firstUse(ctx, lt.TokenID, until)
		if err != nil {
			c.logoutFailed(w, r, err)
			return
		}
		if !first {
			c.reject(w, r, ReasonBackChannel, refuse(ErrLogoutToken, "jti seen before: a replay"))
			return
		}
		n, err := c.endSessions(ctx, lt.Subject, lt.SessionID)
		if err != nil {
			// Let the provider's retry of this very token through.
			if ferr := c.forget(context.WithoutCancel(ctx), lt.TokenID); ferr != nil {
				c.m.Logger().ErrorContext(ctx, "oidc: back-channel logout: forgetting the jti", "err", ferr)
			}
			c.logoutFailed(w, r, err)
			return
		}
		c.loggedOut(r, ReasonBackChannel, n)
		w.WriteHeader(http.StatusOK)
	})
}

// logoutTokenParam returns the logout_token of a form-encoded POST body,
// which must hold exactly one and must not be in the URL.
func logoutTokenParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" || r.URL.Query().Has("logout_token") {
		return "", false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutBody)
	if err := r.ParseForm(); err != nil {
		return "", false
	}
	v := r.PostForm["logout_token"]
	if len(v) != 1 || v[0] == "" {
		return "", false
	}
	return v[0], true
}

// reject answers a refused logout request with 400 and emits an
// EventRejected.
func (c *Client) reject(w http.ResponseWriter, r *http.Request, reason event.Reason, err error) {
	c.m.Emit(event.Event{Kind: EventRejected, Reason: reason, Err: err, Request: r})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte(`{"error":"invalid_request"}` + "\n"))
}

// logoutFailed answers a logout that a store failure stopped: 400, as the
// specification requires of a failed logout, after logging the cause.
func (c *Client) logoutFailed(w http.ResponseWriter, r *http.Request, err error) {
	c.m.Logger().ErrorContext(r.Context(), "oidc: provider logout failed", "err", err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte(`{"error":"temporarily_unavailable"}` + "\n"))
}

// loggedOut emits the EventProviderLogout of a provider logout.
func (c *Client) loggedOut(r *http.Request, reason event.Reason, n int) {
	c.m.Emit(event.Event{Kind: EventProviderLogout, Reason: reason, Request: r,
		Attrs: []slog.Attr{slog.String("issuer", c.issuer), slog.Int("sessions", n)}})
}

// earliest returns the earlier of a and b.
func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
