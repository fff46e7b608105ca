package demo

import (
	"encoding/json"
	"mime"
	"net/http"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/token"
)

// maxCredentialBody bounds the body of a token request.
const maxCredentialBody = 4 << 10

// apiPage documents the API with commands to copy.
func (a *App) apiPage(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	v := a.newView(r, s, "Token API", "api")
	insecure := ""
	if a.cfg.TLS {
		insecure = "-k " // the certificate is self-signed
	}
	v.Data = struct {
		Curl  string
		Users []Account
	}{"curl " + insecure, Users}
	a.render(w, r, http.StatusOK, "api", v)
}

// writeJSON writes a JSON API response, never cached.
func writeJSON(w http.ResponseWriter, code int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// credentials reads a user name and password from a form or JSON body.
func credentials(w http.ResponseWriter, r *http.Request) (name, password string, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxCredentialBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		name, password = r.PostFormValue("username"), r.PostFormValue("password")
	case "application/json":
		var body struct{ Username, Password string }
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			return "", "", false
		}
		name, password = body.Username, body.Password
	default:
		return "", "", false
	}
	return name, password, name != "" && password != ""
}

// apiToken signs a user in with a name and password and answers with an
// access token and a refresh token, like an OAuth token endpoint (RFC 6749
// sections 5.1 and 5.2).
func (a *App) apiToken(w http.ResponseWriter, r *http.Request) {
	name, password, ok := credentials(w, r)
	if !ok {
		token.WriteError(w, &token.OAuthError{Code: "invalid_request", Description: "send username and password, as a form or JSON"})
		return
	}
	u, wait, err := a.signIn(r, name, password)
	switch {
	case err != nil:
		a.log.ErrorContext(r.Context(), "keycard demo: token request failed", "err", err)
		token.WriteError(w, err) // 503 temporarily_unavailable
		return
	case u == nil && wait > 0:
		w.Header().Set("Retry-After", retryAfter(wait))
		token.WriteError(w, &token.OAuthError{Status: http.StatusTooManyRequests, Code: "too_many_attempts", Description: "too many failed sign-ins; retry later"})
		return
	case u == nil:
		token.WriteError(w, &token.OAuthError{Code: "invalid_grant", Description: "wrong user name or password"})
		return
	}
	s := keycard.FromContext(r.Context())
	// Remembered, so that the session, and with it the refresh tokens,
	// lasts days rather than the 8 hours of a browser session.
	err = a.api.RememberMe(s, true)
	if err == nil {
		err = a.api.Login(r.Context(), s, u.ID)
	}
	var pair token.Pair
	if err == nil {
		pair, err = a.iss.Issue(r.Context(), s)
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "keycard demo: token request failed", "err", err)
		token.WriteError(w, err) // 503 temporarily_unavailable
		return
	}
	if err := pair.WriteResponse(w); err != nil {
		a.log.DebugContext(r.Context(), "keycard demo: writing a token response failed", "err", err)
	}
}

// apiMe answers with the verified claims of the request's access token,
// checked strictly: a revoked session's tokens fail at once.
func (a *App) apiMe(w http.ResponseWriter, r *http.Request) {
	c, _ := token.ClaimsFromContext(r.Context())
	name := ""
	if u := a.userOf(c.Subject); u != nil {
		name = u.Name
	}
	writeJSON(w, http.StatusOK, struct {
		User      string    `json:"user"`
		Name      string    `json:"name"`
		Session   string    `json:"session"`
		IssuedAt  time.Time `json:"issued_at"`
		ExpiresAt time.Time `json:"expires_at"`
	}{c.Subject, name, short(c.SessionID), c.IssuedAt.UTC(), c.Expiry.UTC()})
}

// apiLogout ends the session of the request's access token, and with it
// its refresh token.
func (a *App) apiLogout(w http.ResponseWriter, r *http.Request) {
	c, _ := token.ClaimsFromContext(r.Context())
	if err := a.api.Revoke(r.Context(), c.SessionID); err != nil {
		a.log.ErrorContext(r.Context(), "keycard demo: API logout failed", "err", err)
		token.WriteError(w, err) // 503 temporarily_unavailable
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
