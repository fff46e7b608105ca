package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// refreshGrace is the token package's default Config.Grace, which the demo
// keeps: for this long after a rotation, the rotated-away refresh token
// returns the same successor instead of counting as reuse.
const refreshGrace = 10 * time.Second

// The token API, driven by a program (it is not bound to cookies, so a Go
// client stands in for one) while Alice watches her devices page: a token
// pair, /api/me, a refresh, and the old refresh token presented again after
// the grace window, which ends the session and every token of it.
func TestTokenRefreshReuse(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	api := newAPIClient(t, d)
	b := newBrowser(t, d, "A")
	b.login("alice", "alice-wonderland", "Alice Liddell", false)

	p1 := api.token("alice", "alice-wonderland")
	if p1.TokenType != "Bearer" || p1.ExpiresIn <= 0 || p1.AccessToken == "" || p1.RefreshToken == "" {
		t.Fatalf("token pair: %+v", p1.redacted())
	}
	code, me := api.me(p1.AccessToken)
	if code != http.StatusOK || me.User != "alice" || me.Name != "Alice Liddell" {
		t.Fatalf("/api/me: status %d, %+v; want 200, alice", code, me)
	}

	// The API client is one of Alice's devices.
	b.openOK("/devices")
	if rows := b.count("table.devices tbody tr"); rows != 2 {
		t.Fatalf("devices page: %d sessions, want 2 (this browser, the API client)", rows)
	}
	if s := b.text("table.devices tbody"); !strings.Contains(s, "Go client") || !strings.Contains(s, me.Session) {
		t.Errorf("devices page does not show the Go client's session %s: %q", me.Session, s)
	}
	b.screenshot("devices-api-client")

	sent := time.Now() // the server rotates the token after this
	code, p2 := api.refresh(p1.RefreshToken)
	rotated := time.Now() // and before this
	if code != http.StatusOK || p2.RefreshToken == "" || p2.RefreshToken == p1.RefreshToken || p2.AccessToken == "" {
		t.Fatalf("refresh: status %d, %+v; want 200 and a new pair", code, p2.redacted())
	}
	if code, me2 := api.me(p2.AccessToken); code != http.StatusOK || me2.User != "alice" || me2.Session != me.Session {
		t.Fatalf("/api/me with the refreshed access token: status %d, %+v; want 200, alice, session %s", code, me2, me.Session)
	}

	// Within the grace window, the old refresh token is an honest retry:
	// it gets the same successor. The retry is sent at once, but on a
	// loaded machine it could reach the server after the window: only a
	// retry answered before the window can have ended is checked.
	code, p := api.refresh(p1.RefreshToken)
	if answered := time.Now(); answered.Before(sent.Add(refreshGrace)) {
		if code != http.StatusOK || p.RefreshToken != p2.RefreshToken {
			t.Errorf("old refresh token within %v: status %d, same successor %v; want 200, true", refreshGrace, code, p.RefreshToken == p2.RefreshToken)
		}
	} else {
		t.Logf("the retry with the old refresh token was answered %v after the refresh, past the %v grace window: not checked", answered.Sub(sent), refreshGrace)
	}

	// After it, the old token is reuse: refused, and the session ends.
	time.Sleep(time.Until(rotated.Add(refreshGrace + time.Second)))
	if code, _ := api.refresh(p1.RefreshToken); code != http.StatusBadRequest {
		t.Fatalf("old refresh token after the grace window: status %d, want 400 invalid_grant", code)
	}
	if code, _ := api.me(p2.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("current access token after reuse: /api/me status %d, want 401 (session revoked)", code)
	}
	if code, _ := api.refresh(p2.RefreshToken); code != http.StatusBadRequest {
		t.Errorf("current refresh token after reuse: status %d, want 400 (session revoked)", code)
	}

	// The devices page no longer lists the API client; the browser is
	// untouched.
	b.openOK("/devices")
	if rows := b.count("table.devices tbody tr"); rows != 1 {
		t.Errorf("devices page after reuse: %d sessions, want 1", rows)
	}
	if s := b.text("table.devices tbody"); strings.Contains(s, me.Session) {
		t.Errorf("devices page still lists the revoked API session %s", me.Session)
	}
	if u := b.user(); u != "Alice Liddell" {
		t.Errorf("browser after the API session's revocation: signed in as %q", u)
	}
}

// apiClient calls the demo's token API with Go's HTTP client.
type apiClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newAPIClient(t *testing.T, d *demoServer) *apiClient {
	return &apiClient{t: t, base: d.URL, c: &http.Client{Timeout: stepTimeout}}
}

// tokenPair is the token endpoints' answer.
type tokenPair struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

// redacted describes p without its tokens, for messages.
func (p tokenPair) redacted() string {
	return "type " + p.TokenType + ", error " + p.Error +
		", access token set " + yes(p.AccessToken != "") + ", refresh token set " + yes(p.RefreshToken != "")
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// meAnswer is /api/me's answer.
type meAnswer struct {
	User    string `json:"user"`
	Name    string `json:"name"`
	Session string `json:"session"`
}

// do sends a request and decodes a JSON answer into v, if any.
func (a *apiClient) do(method, path, bearer string, form url.Values, v any) int {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	if v != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, v); err != nil {
			a.t.Fatalf("%s %s: status %d, bad JSON: %v", method, path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode
}

// token signs in through POST /api/token and wants a pair.
func (a *apiClient) token(user, password string) tokenPair {
	a.t.Helper()
	var p tokenPair
	if code := a.do("POST", "/api/token", "", url.Values{"username": {user}, "password": {password}}, &p); code != http.StatusOK {
		a.t.Fatalf("POST /api/token as %s: status %d (%s), want 200", user, code, p.Error)
	}
	return p
}

// refresh presents a refresh token to POST /api/refresh.
func (a *apiClient) refresh(refreshToken string) (int, tokenPair) {
	a.t.Helper()
	var p tokenPair
	code := a.do("POST", "/api/refresh", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, &p)
	return code, p
}

// me calls GET /api/me with an access token.
func (a *apiClient) me(accessToken string) (int, meAnswer) {
	a.t.Helper()
	var m meAnswer
	code := a.do("GET", "/api/me", accessToken, nil, &m)
	return code, m
}
