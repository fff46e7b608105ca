// Package demoidp is the OpenID Provider that "keycard demo" starts on
// another loopback port for its "Sign in with OpenID Connect" button:
// zitadel's example provider (github.com/zitadel/oidc/v3), which knows one
// account, test-user@local-site with the password verysecure, and has the
// demo registered as a client. It is for local development only: its keys
// live in memory and its login page is the example's.
//
// Besides the protocol, it offers what a real provider does when a user
// signs out there: POST /keycard-demo/logout sends the demo a back-channel
// logout token (OpenID Connect Back-Channel Logout 1.0) for the account,
// signed with the provider's own key, which ends every session the account
// signed in to the demo.
package demoidp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// The demo's registration at the provider, and the provider's account.
const (
	ClientID     = "keycard-demo"
	ClientSecret = "keycard-demo-secret" // a development provider's; not a secret
	Username     = "test-user@local-site"
	Password     = "verysecure"
	Subject      = "id1" // the account's subject
)

// backChannelEvent is the logout token's event member.
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// Provider is a running demo OpenID Provider.
type Provider struct {
	// Issuer is the provider's URL, such as "http://127.0.0.1:40123".
	Issuer string

	app     string // the demo's origin
	storage *storage.Storage
	srv     *http.Server
	hc      *http.Client
}

// Start serves a provider on ln (a loopback listener) for the demo at
// origin, whose callback is origin+"/oidc/callback" and back-channel
// logout endpoint origin+"/oidc/backchannel-logout". Close stops it.
func Start(ln net.Listener, origin string) *Provider {
	p := &Provider{
		Issuer: "http://" + ln.Addr().String(),
		app:    origin,
		hc:     &http.Client{Timeout: 10 * time.Second},
	}
	clients := map[string]*storage.Client{ClientID: storage.WebClient(ClientID, ClientSecret, origin+"/oidc/callback")}
	p.storage = storage.NewStorageWithClients(storage.NewUserStore("http://local-site"), clients)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /keycard-demo/{$}", p.page)
	mux.HandleFunc("POST /keycard-demo/logout", p.logout)
	mux.Handle("/", exampleop.SetupServer(p.Issuer, p.storage, nil, false))
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p
}

// Close stops the provider.
func (p *Provider) Close() error { return p.srv.Close() }

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo OpenID Provider</title></head>
<body>
<h1>Demo OpenID Provider</h1>
<p>Sign in to the Keycard demo with <code>{{.Username}}</code> / <code>{{.Password}}</code>; the demo maps
this account to Alice.</p>
<form method="post" action="/keycard-demo/logout">
<button>Sign {{.Username}} out of the demo (back-channel logout)</button>
</form>
</body></html>
`))

// page describes the provider, with the back-channel logout button.
func (p *Provider) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	pageTemplate.Execute(w, struct{ Username, Password string }{Username, Password})
}

// logout sends the demo a back-channel logout of the account, as the
// provider would when the user signs out there. Only this provider's own
// pages (or a client that is no browser) may ask for it.
func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		http.Error(w, "refused: a cross-site request", http.StatusForbidden)
		return
	}
	code, err := p.BackChannelLogout(r.Context())
	if err != nil {
		http.Error(w, "back-channel logout failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, "The demo answered the back-channel logout with %d: every session %s signed in with is ended.\n", code, Username)
}

// BackChannelLogout signs a logout token for the account (sub, no sid:
// every session of the account) with the provider's key and posts it to
// the demo, returning the demo's status code.
func (p *Provider) BackChannelLogout(ctx context.Context) (int, error) {
	tok, err := p.logoutToken(ctx)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.app+"/oidc/backchannel-logout",
		strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, nil
}

// logoutToken returns a logout token for the account, typed logout+jwt
// and signed with the key the provider's JWKS publishes.
func (p *Provider) logoutToken(ctx context.Context) (string, error) {
	key, err := p.storage.SigningKey(ctx)
	if err != nil {
		return "", err
	}
	now := time.Now()
	claims, err := json.Marshal(map[string]any{
		"iss": p.Issuer, "aud": ClientID, "sub": Subject,
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": rand.Text(),
		"events": map[string]any{backChannelEvent: map[string]any{}},
	})
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(key.SignatureAlgorithm()),
		Key:       jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()},
	}, (&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(claims)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
