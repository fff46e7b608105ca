package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A visitor with a cart signs in with OpenID Connect against the demo's
// own provider (zitadel's example OpenID Provider, on another loopback
// port): through the provider's login page, back on the shop signed in as
// Alice, on a new session ID, with the cart kept. When the provider then
// sends the demo a back-channel logout for the account (a logout token
// signed with its own key), the browser's next page load is anonymous.
func TestOpenIDConnectSignInAndBackChannelLogout(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	b := newBrowser(t, d, "A")
	b.openOK("/")
	b.addToCart("croissant")
	before := b.cookie("__Host-keycard")
	if before == nil {
		t.Fatal("no session cookie after adding to the cart")
	}

	b.openOK("/login")
	b.submitOK("sign in with OpenID Connect", `a[href^="/oidc/login"]`)
	provider := eval[string](b, "read the provider's origin", `location.origin`)
	if provider == d.URL || b.count(`form[action="/login/username"]`) != 1 {
		t.Fatalf("after the OpenID Connect button: at %s%s, want the provider's login page", provider, b.path())
	}
	b.screenshot("oidc-provider-login")
	b.do("fill in the provider's login form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "test-user@local-site"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "verysecure"))
	b.submitOK("log in at the provider", `form[action="/login/username"] button`)

	if o := eval[string](b, "read the origin", `location.origin`); o != d.URL || b.path() != "/" {
		t.Fatalf("after the provider's login: at %s%s, want the shop", o, b.path())
	}
	if u := b.user(); u != "Alice Liddell" {
		t.Fatalf("after signing in with OpenID Connect: signed in as %q, want Alice Liddell (flashes %q)", u, b.flashes())
	}
	if f := b.flashes(); !containsAny(f, "signed in with OpenID Connect") || !containsAny(f, "Your cart kept its 1 item(s).") {
		t.Errorf("flashes after signing in with OpenID Connect: %q", f)
	}
	if c := b.cart(); len(c) != 1 || !strings.Contains(c[0], "Croissant") {
		t.Errorf("cart after signing in with OpenID Connect: %q, want the croissant", c)
	}
	if after := b.cookie("__Host-keycard"); after == nil || after.Value == before.Value {
		t.Error("signing in with OpenID Connect kept the session cookie: want a new session ID")
	}
	b.screenshot("oidc-signed-in")

	// The provider signs the account out of the demo (back-channel,
	// server to server).
	resp, err := http.Post(provider+"/keycard-demo/logout", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "answered the back-channel logout with 200") {
		t.Fatalf("the provider's back-channel logout: %d %q", resp.StatusCode, body)
	}
	b.openOK("/")
	if u := b.user(); u != "" {
		t.Errorf("after the provider's back-channel logout: signed in as %q, want anonymous", u)
	}
	if c := b.cart(); len(c) != 0 {
		t.Errorf("after the provider's back-channel logout: cart %q, want empty", c)
	}
}
