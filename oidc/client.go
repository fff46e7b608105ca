package oidc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/keycard-go/keycard"
)

// Defaults and limits of Config.
const (
	DefaultFlowTimeout       = 10 * time.Minute
	DefaultLogoutTokenMaxAge = 2 * time.Minute
	DefaultHTTPTimeout       = 10 * time.Second
)

// leeway is the clock skew tolerated between this server and the provider
// when checking "iat", "auth_time" and a logout token's age.
const leeway = time.Minute

// Config configures a Client. Issuer, ClientID, RedirectURL and MapUser are
// required; every other zero field takes a safe default.
type Config struct {
	// Issuer is the provider's issuer identifier, exactly as its discovery
	// document states it, such as "https://accounts.example.com". New
	// fetches Issuer + "/.well-known/openid-configuration" and refuses a
	// document naming any other issuer. It must be an https URL (http is
	// accepted only for a loopback host, for tests and local development).
	Issuer string

	// ClientID is the client ID registered at the provider; ID and logout
	// tokens must be issued for it.
	ClientID string

	// ClientSecret authenticates the client to the token endpoint. Leave
	// it empty for a public client: PKCE protects the code either way.
	ClientSecret string

	// RedirectURL is the absolute URL where CallbackHandler (or the
	// application's handler calling Callback) is served, as registered at
	// the provider. Use a redirect URL of its own for each provider, so
	// that no provider's response can be taken for another's.
	RedirectURL string

	// Scopes are requested besides "openid", which is always requested.
	// Ask only for what the application uses ("email", "profile"). The
	// default is none.
	Scopes []string

	// MapUser maps the provider's identity to the application's user: it
	// returns the user ID that Manager.Login binds the session to, after
	// creating or linking the account if the application does that. Key
	// accounts by SignIn.Issuer and SignIn.Subject together, which the
	// provider never reassigns; never by an e-mail address, which can
	// change hands. An error ends the sign-in: Callback returns it and no
	// session changes. Required.
	MapUser func(ctx context.Context, in *SignIn) (User, error)

	// PostLogoutRedirectURL is the absolute URL where PostLogoutHandler is
	// served, registered at the provider as a post-logout redirect URI:
	// SignOut sends it to the provider's end_session_endpoint, which
	// returns the browser there. Empty means the provider shows its own
	// page after logout.
	PostLogoutRedirectURL string

	// DefaultReturnTo is where a sign-in or sign-out goes when it was given
	// no acceptable return path. It must itself be one (see ReturnPath).
	// The default is "/".
	DefaultReturnTo string

	// FlowTimeout is how long a sign-in started by SignIn can be completed
	// at the callback. The default is 10 minutes; it must be between 1
	// minute and 1 hour.
	FlowTimeout time.Duration

	// LogoutTokenMaxAge is how old (by its "iat") a back-channel logout
	// token may be. The default is 2 minutes; it must be between 30
	// seconds and 10 minutes. The ID of each token accepted is kept in the
	// store that long, to refuse it a second time.
	LogoutTokenMaxAge time.Duration

	// HTTPClient makes the requests to the provider (discovery, keys,
	// token exchange). The default is a client with a 10-second timeout.
	HTTPClient *http.Client

	// ErrorHandler writes the response when SignInHandler, CallbackHandler,
	// SignOutHandler or PostLogoutHandler fails. err wraps ErrState,
	// ErrProvider, ErrExchange, ErrIDToken or ErrAuthLevel for a refused
	// sign-in, or is a store or MapUser failure. The default answers 400
	// for a refused sign-in and 500 otherwise, with a short plain body
	// that says nothing about which check failed.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// User is what Config.MapUser returns: the application's user for a
// provider identity.
type User struct {
	// ID is the user ID the session is bound to (Manager.Login). Required.
	ID string

	// RememberMe marks the session remembered (Manager.RememberMe): a
	// persistent cookie and the longer timeouts. Decide it here rather
	// than after Callback, so that the provider's logout reaches the
	// session for its whole life.
	RememberMe bool
}

// A Client signs users in with one OpenID Connect provider and ends their
// sessions when the provider says so, for the sessions of one keycard
// Manager. Create it with New. A Client is safe for concurrent use.
type Client struct {
	m          *keycard.Manager
	cfg        Config
	issuer     string
	oauth      oauth2.Config
	verifier   *gooidc.IDTokenVerifier
	hc         *http.Client
	endSession string // the provider's end_session_endpoint, or ""
	issParam   bool   // the provider promises the RFC 9207 "iss" parameter
	keys       []keycard.Key
}

// keyPurpose names the Manager-derived keys of the store keys this package
// writes (the identity index and the logout tokens seen).
const keyPurpose = "keycard/oidc v1"

// New fetches the provider's discovery document and returns a Client for
// the sessions of m. ctx bounds the discovery request only. New fails if
// the provider cannot be reached, if its document names another issuer,
// or if the provider does not support PKCE with S256 while saying which
// methods it supports.
func New(ctx context.Context, m *keycard.Manager, cfg Config) (*Client, error) {
	if m == nil {
		return nil, errors.New("oidc: New: nil Manager")
	}
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("oidc: config: %w", err)
	}
	c := &Client{m: m, cfg: cfg, issuer: cfg.Issuer, hc: cfg.HTTPClient, keys: m.DeriveKeys(keyPurpose)}
	p, err := gooidc.NewProvider(c.clientContext(ctx), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery: %w", err)
	}
	var meta struct {
		EndSession string   `json:"end_session_endpoint"`
		PKCE       []string `json:"code_challenge_methods_supported"`
		ISSParam   bool     `json:"authorization_response_iss_parameter_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc: discovery: %w", err)
	}
	if len(meta.PKCE) > 0 && !slices.Contains(meta.PKCE, "S256") {
		return nil, fmt.Errorf("oidc: discovery: the provider does not support PKCE with S256 (it lists %q)", meta.PKCE)
	}
	if meta.EndSession != "" {
		if _, err := secureURL(meta.EndSession); err != nil {
			return nil, fmt.Errorf("oidc: discovery: end_session_endpoint: %w", err)
		}
		c.endSession = meta.EndSession
	}
	c.issParam = meta.ISSParam
	c.verifier = p.Verifier(&gooidc.Config{ClientID: cfg.ClientID})
	c.oauth = oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  cfg.RedirectURL,
		Scopes:       append([]string{gooidc.ScopeOpenID}, cfg.Scopes...),
	}
	return c, nil
}

// setDefaults fills in the defaults of cfg and validates it.
func (cfg *Config) setDefaults() error {
	var errs []error
	if cfg.Issuer == "" {
		errs = append(errs, errors.New("Issuer is required"))
	} else if _, err := secureURL(cfg.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("Issuer: %w", err))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("ClientID is required"))
	}
	if cfg.RedirectURL == "" {
		errs = append(errs, errors.New("RedirectURL is required"))
	} else if _, err := secureURL(cfg.RedirectURL); err != nil {
		errs = append(errs, fmt.Errorf("RedirectURL: %w", err))
	}
	if cfg.PostLogoutRedirectURL != "" {
		if _, err := secureURL(cfg.PostLogoutRedirectURL); err != nil {
			errs = append(errs, fmt.Errorf("PostLogoutRedirectURL: %w", err))
		}
	}
	if cfg.MapUser == nil {
		errs = append(errs, errors.New("MapUser is required"))
	}
	for _, s := range cfg.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") || s == gooidc.ScopeOpenID {
			errs = append(errs, fmt.Errorf("scope %q: not a scope token, or openid (always requested)", s))
		}
	}
	if cfg.DefaultReturnTo == "" {
		cfg.DefaultReturnTo = "/"
	} else if _, ok := ReturnPath(cfg.DefaultReturnTo); !ok {
		errs = append(errs, fmt.Errorf("DefaultReturnTo %q is not a same-site path", cfg.DefaultReturnTo))
	}
	if cfg.FlowTimeout == 0 {
		cfg.FlowTimeout = DefaultFlowTimeout
	}
	if cfg.FlowTimeout < time.Minute || cfg.FlowTimeout > time.Hour {
		errs = append(errs, fmt.Errorf("FlowTimeout %v must be between 1m and 1h", cfg.FlowTimeout))
	}
	if cfg.LogoutTokenMaxAge == 0 {
		cfg.LogoutTokenMaxAge = DefaultLogoutTokenMaxAge
	}
	if cfg.LogoutTokenMaxAge < 30*time.Second || cfg.LogoutTokenMaxAge > 10*time.Minute {
		errs = append(errs, fmt.Errorf("LogoutTokenMaxAge %v must be between 30s and 10m", cfg.LogoutTokenMaxAge))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	return errors.Join(errs...)
}

// secureURL parses an absolute URL that is https, or http to a loopback
// host (127.0.0.0/8, ::1, localhost), and has no user information or
// fragment.
func secureURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("%q is not an absolute URL", raw)
	case u.User != nil || u.Fragment != "":
		return nil, fmt.Errorf("%q has user information or a fragment", raw)
	case u.Scheme == "https":
		return u, nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return u, nil
	}
	return nil, fmt.Errorf("%q is neither https nor http to a loopback address", raw)
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientContext returns ctx carrying the Client's HTTP client, for
// go-oidc and oauth2.
func (c *Client) clientContext(ctx context.Context) context.Context {
	return gooidc.ClientContext(ctx, c.hc)
}

// Issuer returns the provider's issuer identifier.
func (c *Client) Issuer() string { return c.issuer }
