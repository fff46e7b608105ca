package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
)

func mapAlice(context.Context, *SignIn) (User, error) { return User{ID: "alice"}, nil }

// New refuses every invalid Config before it reaches the network.
func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	m, _ := keycard.New(keycard.Config{})
	good := Config{Issuer: "https://id.example", ClientID: "c", RedirectURL: "https://app.example/cb", MapUser: mapAlice}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "Issuer is required"},
		{"an http issuer", func(c *Config) { c.Issuer = "http://id.example" }, "Issuer"},
		{"no client", func(c *Config) { c.ClientID = "" }, "ClientID is required"},
		{"no redirect URL", func(c *Config) { c.RedirectURL = "" }, "RedirectURL is required"},
		{"a relative redirect URL", func(c *Config) { c.RedirectURL = "/cb" }, "RedirectURL"},
		{"an http post-logout URL", func(c *Config) { c.PostLogoutRedirectURL = "http://app.example/bye" }, "PostLogoutRedirectURL"},
		{"no MapUser", func(c *Config) { c.MapUser = nil }, "MapUser is required"},
		{"a bad scope", func(c *Config) { c.Scopes = []string{"a b"} }, "scope"},
		{"openid among the scopes", func(c *Config) { c.Scopes = []string{"openid"} }, "scope"},
		{"an off-site default return", func(c *Config) { c.DefaultReturnTo = "//evil.example" }, "DefaultReturnTo"},
		{"a FlowTimeout too short", func(c *Config) { c.FlowTimeout = time.Second }, "FlowTimeout"},
		{"a LogoutTokenMaxAge too long", func(c *Config) { c.LogoutTokenMaxAge = time.Hour }, "LogoutTokenMaxAge"},
	} {
		cfg := good
		tc.edit(&cfg)
		if _, err := New(t.Context(), m, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(t.Context(), nil, good); err == nil {
		t.Error("a nil Manager was accepted")
	}
}

// New refuses a provider whose discovery document names another issuer
// (ASVS 10.5.3) or that supports PKCE but not with S256, and reads the
// end_session_endpoint.
func TestNewChecksDiscovery(t *testing.T) {
	t.Parallel()
	m, _ := keycard.New(keycard.Config{})
	doc := map[string]any{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(doc)
	}))
	defer srv.Close()
	base := func() map[string]any {
		return map[string]any{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"},
		}
	}
	cfg := Config{Issuer: srv.URL, ClientID: "c", RedirectURL: "http://127.0.0.1/cb", MapUser: mapAlice}
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		want string // "" for success
	}{
		{"a provider that names itself", func(map[string]any) {}, ""},
		{"another issuer", func(d map[string]any) { d["issuer"] = "https://evil.example" }, "issuer"},
		{"PKCE without S256", func(d map[string]any) { d["code_challenge_methods_supported"] = []string{"plain"} }, "S256"},
		{"an http end_session_endpoint elsewhere", func(d map[string]any) { d["end_session_endpoint"] = "http://evil.example/logout" }, "end_session_endpoint"},
	} {
		doc = base()
		tc.edit(doc)
		c, err := New(t.Context(), m, cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error mentioning %q", tc.name, err, tc.want)
		case tc.want == "" && c.Issuer() != srv.URL:
			t.Errorf("%s: Issuer() = %q", tc.name, c.Issuer())
		}
	}
}

// The logout handlers refuse, when built, a Manager whose sessions no
// logout request could find.
func TestLogoutHandlersNeedAUserIndex(t *testing.T) {
	t.Parallel()
	m, _ := keycard.New(keycard.Config{Sealed: true, Keys: []keycard.Key{keycard.NewKey()}})
	c := &Client{m: m}
	for name, build := range map[string]func() http.Handler{"BackChannelLogout": c.BackChannelLogout, "FrontChannelLogout": c.FrontChannelLogout} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s accepted a sealed Manager", name)
				}
			}()
			build()
		}()
	}
}
