package token

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// JWKSMaxAge is how long clients may cache the JWKS, in seconds. Add a
// next key at least this long before promoting it.
const JWKSMaxAge = 300

// JWKS returns a handler that serves the public keys of the key set
// (current, next and previous) as a JSON Web Key Set, for services that
// verify the access tokens themselves. Secret (HS256) keys and private
// parts are never served. Responses may be cached for JWKSMaxAge seconds.
func (iss *Issuer) JWKS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		body, err := iss.jwks()
		if err != nil {
			iss.m.Logger().ErrorContext(r.Context(), "token: JWKS", "err", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(JWKSMaxAge))
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(body)
	})
}

// jwks returns the JWKS document, rebuilt only when the key set changed.
func (iss *Issuer) jwks() ([]byte, error) {
	iss.keys.prune(time.Now())
	iss.jwksMu.Lock()
	defer iss.jwksMu.Unlock()
	if iss.jwksBody != nil && iss.jwksVersion == iss.keys.cachedVersion() {
		return iss.jwksBody, nil
	}
	body, version, err := iss.keys.jwks()
	if err != nil {
		return nil, err
	}
	iss.jwksBody, iss.jwksVersion = body, version
	return body, nil
}

type contextKey struct{ name string }

func (k *contextKey) String() string { return "token context key " + k.name }

var claimsKey = &contextKey{"claims"}

// ClaimsFromContext returns the verified claims that Middleware put in the
// request's context, and whether there were any.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey).(*Claims)
	return c, ok
}

// Middleware returns middleware that admits only requests with a valid
// access token in "Authorization: Bearer", and gives the handler its
// claims through ClaimsFromContext. With strict it verifies with
// VerifyStrict (one store read per request, revocation at once), otherwise
// with Verify (no store call, revocation when the token expires).
//
// A request without a bearer token gets 401 with "WWW-Authenticate:
// Bearer"; one with an invalid token, whatever the reason, gets 401 with
// `WWW-Authenticate: Bearer error="invalid_token"`. Both have the same
// body, {"error":"unauthorized"}. A store failure under strict gets 503.
func (iss *Issuer) Middleware(strict bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, present := bearer(r.Header)
			if !present {
				unauthorized(w, "Bearer")
				return
			}
			var c *Claims
			var err error = errBearerMissing
			if tok != "" {
				c, err = iss.verify(r.Context(), tok, r, strict)
			}
			switch {
			case errors.Is(err, ErrInvalidToken):
				unauthorized(w, `Bearer error="invalid_token"`)
				return
			case err != nil:
				iss.m.Logger().ErrorContext(r.Context(), "token: verifying an access token failed", "err", err)
				writeJSON(w, http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey, c)))
		})
	}
}

// bearer returns the request's bearer token and whether it presented one.
// Several Authorization headers count as an invalid (empty) token.
func bearer(h http.Header) (string, bool) {
	vals := h.Values("Authorization")
	if len(vals) == 0 {
		return "", false
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", len(vals) > 1 // another scheme: no bearer token
	}
	if len(vals) > 1 {
		return "", true
	}
	return strings.TrimSpace(tok), true
}

func unauthorized(w http.ResponseWriter, challenge string) {
	w.Header().Set("WWW-Authenticate", challenge)
	writeJSON(w, http.StatusUnauthorized, `{"error":"unauthorized"}`)
}

func writeJSON(w http.ResponseWriter, code int, body string) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, err := w.Write([]byte(body + "\n"))
	return err
}

// RefreshHandler returns a token endpoint for the refresh_token grant
// (RFC 6749 section 6). It takes a POST whose body is a form
// (application/x-www-form-urlencoded) or a JSON object with
// "refresh_token" and, optionally, "grant_type" set to "refresh_token",
// and answers like an OAuth token endpoint:
//
//	200 {"access_token":"…","token_type":"Bearer","expires_in":600,"refresh_token":"…"}
//	400 {"error":"invalid_grant"}               any refused refresh token
//	400 {"error":"invalid_request"}             no token, a token in the URL, a malformed request
//	400 {"error":"unsupported_grant_type"}      another grant_type
//	503 {"error":"temporarily_unavailable"}     a store failure: keep the token, retry
//
// Responses are not cacheable. A refresh token in the query string is
// refused, since URLs end up in logs. The endpoint does no client
// authentication and no rate limiting; put those in front if needed, or
// build an endpoint of your own from what this one is made of:
// ReadRefreshRequest, Refresh, Pair.WriteResponse and WriteError.
func (iss *Issuer) RefreshHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := ReadRefreshRequest(w, r)
		if err != nil {
			WriteError(w, err)
			return
		}
		p, err := iss.refresh(r.Context(), tok, r)
		if err != nil {
			if !errors.Is(err, ErrInvalidGrant) {
				iss.m.Logger().ErrorContext(r.Context(), "token: refresh failed", "err", err)
			}
			WriteError(w, err)
			return
		}
		p.WriteResponse(w)
	})
}
