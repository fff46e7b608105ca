package demo

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/cmd/keycard/internal/demoidp"
	"github.com/keycard-go/keycard/cmd/keycard/internal/keyfile"
	"github.com/keycard-go/keycard/store/memory"
)

// newOIDCServer serves a demo app with "Sign in with OpenID Connect"
// against a demo provider of its own, both on 127.0.0.1.
func newOIDCServer(t *testing.T) (*httptest.Server, *demoidp.Provider) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	idp := demoidp.Start(ln, srv.URL)
	t.Cleanup(func() { idp.Close() })
	st := memory.New(memory.Config{})
	t.Cleanup(func() { st.Close() })
	app, err := New(Config{
		Store: st, Keys: keyfile.Generate(time.Now()), Origin: srv.URL, StoreName: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OIDC: &OIDC{Issuer: idp.Issuer, ClientID: demoidp.ClientID, ClientSecret: demoidp.ClientSecret,
			Users: map[string]string{demoidp.Subject: "alice"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = app
	return srv, idp
}

var providerRequestID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// oidcSignIn follows the "Sign in with OpenID Connect" link through the
// provider's login form as username, and returns the demo's answer to
// the provider's redirect back (the callback).
func (c *client) oidcSignIn(idp *demoidp.Provider, username, password string) (*http.Response, string) {
	c.t.Helper()
	resp, _ := c.get("/oidc/login?return_to=/")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, idp.Issuer+"/") {
		c.t.Fatalf("GET /oidc/login: %d to %q, want a redirect to the provider", resp.StatusCode, loc)
	}
	// The provider's own pages, with the same client: its cookies stay its
	// own, by host.
	for i := 0; i < 5 && !strings.Contains(loc, "/login/username"); i++ {
		resp, _ = c.getURL(loc)
		next, err := resp.Location()
		if err != nil {
			c.t.Fatalf("the provider answered %d without a redirect", resp.StatusCode)
		}
		loc = next.String()
	}
	_, body := c.getURL(loc)
	m := providerRequestID.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no login form at the provider's %s:\n%s", loc, body)
	}
	req, _ := http.NewRequest("POST", idp.Issuer+"/login/username", strings.NewReader(url.Values{
		"id": {m[1]}, "username": {username}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body = c.do(req)
	for i := 0; i < 5 && !strings.HasPrefix(resp.Header.Get("Location"), c.base+"/oidc/callback"); i++ {
		if resp.Header.Get("Location") == "" {
			c.t.Fatalf("the provider's login answered %d without a redirect:\n%s", resp.StatusCode, body)
		}
		resp, body = c.getURL(resp.Header.Get("Location"))
	}
	return c.getURL(resp.Header.Get("Location"))
}

// getURL loads an absolute URL.
func (c *client) getURL(u string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// #18: signing in with OpenID Connect keeps the cart and gives a new
// session ID; a provider account that is no demo user is refused and
// changes nothing; the provider's back-channel logout ends the session.
func TestOpenIDConnectSignIn(t *testing.T) {
	srv, idp := newOIDCServer(t)
	c := newClient(t, srv.URL)
	_, body := c.get("/login")
	wantContains(t, body, `href="/oidc/login?return_to=%2f"`, "Sign in with OpenID Connect")
	c.submit("/", "/cart/add", url.Values{"product": {"tea"}})
	_, body = c.get("/")
	before := hashOf(body)

	// test-user2 exists at the provider but is no demo user.
	resp, body := c.oidcSignIn(idp, "test-user2", "verysecure")
	wantStatus(t, resp, http.StatusBadRequest)
	wantContains(t, body, "Sign-in with OpenID Connect was refused.")
	_, body = c.get("/")
	wantContains(t, body, "You are anonymous", "1 × Green tea")

	resp, _ = c.oidcSignIn(idp, demoidp.Username, demoidp.Password)
	wantStatus(t, resp, http.StatusSeeOther)
	_, body = c.follow(resp)
	wantContains(t, body, "Welcome, Alice Liddell: signed in with OpenID Connect", "session "+before+"…",
		"Your cart kept its 1 item(s).", "1 × Green tea")
	if after := hashOf(body); after == before || after == "" {
		t.Errorf("session %q before, %q after signing in with OpenID Connect: want a new one", before, after)
	}

	if code, err := idp.BackChannelLogout(t.Context()); err != nil || code != http.StatusOK {
		t.Fatalf("back-channel logout: %d, %v", code, err)
	}
	if resp, _ := c.get("/profile"); resp.StatusCode != http.StatusSeeOther {
		t.Error("still signed in after the provider's back-channel logout")
	}
}
