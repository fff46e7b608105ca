package token

import (
	"context"
	"encoding/base64"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// S-62 for the refresh endpoint: every refused refresh token, whatever
// the reason (malformed, forged, reused after rotation, of a logged-out
// session, of a replaced family, an access token in its place), gets the
// same 400 {"error":"invalid_grant"} with the same header fields and
// values, so a client learns nothing about why.
func TestRefreshRefusalsAreUniform(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withIssuer(func(c *Config) { c.Grace = -1 }))
	h := e.iss.RefreshHandler()
	refresh := func(tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/token", strings.NewReader("grant_type=refresh_token&refresh_token="+tok))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	cases := map[string]string{"malformed": "nope"}
	p, _ := e.login(t, "alice")
	raw, _ := base64.RawURLEncoding.DecodeString(p.RefreshToken)
	raw[60] ^= 1
	cases["forged (tag fails)"] = base64.RawURLEncoding.EncodeToString(raw)
	cases["an access token"] = p.AccessToken
	rotated := refreshOK(t, e, p.RefreshToken)
	cases["reused after rotation"] = p.RefreshToken // destroys the session
	cases["successor of a stolen family"] = rotated.RefreshToken

	q, cookie := e.login(t, "bob")
	e.logout(t, cookie)
	cases["of a logged-out session"] = q.RefreshToken

	r, _ := e.login(t, "carol")
	s, err := e.m.OpenByHash(context.Background(), sessionOf(t, e, r))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iss.Issue(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	cases["of a replaced family"] = r.RefreshToken

	// Order matters for the reuse cases: the rotated-away token first.
	order := []string{"malformed", "forged (tag fails)", "an access token", "reused after rotation",
		"successor of a stolen family", "of a logged-out session", "of a replaced family"}
	var firstBody string
	var firstHeader http.Header
	for i, name := range order {
		w := refresh(cases[name])
		body, _ := io.ReadAll(w.Result().Body)
		hdr := w.Header().Clone()
		hdr.Del("Date")
		if w.Code != http.StatusBadRequest || strings.TrimSpace(string(body)) != `{"error":"invalid_grant"}` {
			t.Errorf("%s: %d %s, want 400 invalid_grant", name, w.Code, body)
		}
		if i == 0 {
			firstBody, firstHeader = string(body), hdr
			continue
		}
		if string(body) != firstBody || !maps.EqualFunc(hdr, firstHeader, slices.Equal) {
			t.Errorf("%s: %q %v differs from %q %v", name, body, hdr, firstBody, firstHeader)
		}
	}
	if len(e.ev.of(EventRefreshReuse)) == 0 {
		t.Error("the reuse case did not exercise reuse detection")
	}
}
