package e2e

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// sessionCookie is the name of the demo's session cookie.
const sessionCookie = "__Host-keycard"

// visitorCookie is the CSRF visitor cookie (csrf.VisitorCookieName).
const visitorCookie = "__Host-keycard-csrf"

// Signing in gives the session a new ID, so the cookie's value changes, and
// the anonymous cart comes along. The old ID is dead: a browser that
// presents it (a planted or stolen cookie) is anonymous.
func TestLoginRenewsSessionKeepsCart(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	b := newBrowser(t, d, "A")

	b.openOK("/")
	b.addToCart("coffee")
	b.addToCart("cake")
	before := b.cookie(sessionCookie)
	if before == nil {
		t.Fatalf("no %s cookie after adding to the cart; cookies: %v", sessionCookie, cookieNames(b.cookies()))
	}
	footer := b.text("footer code")

	b.login("alice", "alice-wonderland", "Alice Liddell", false)
	after := b.cookie(sessionCookie)
	switch {
	case after == nil:
		t.Fatalf("no %s cookie after signing in", sessionCookie)
	case after.Value == before.Value:
		t.Fatalf("the session cookie kept its value %q across sign-in", before.Value)
	}
	if f := b.footerHash(); f == footer {
		t.Errorf("the footer shows the same session %q before and after sign-in", f)
	}
	want := []string{"1 × Espresso beans", "1 × Lemon cake"}
	if c := b.cart(); !slices.Equal(c, want) {
		t.Fatalf("cart after sign-in: %q, want %q", c, want)
	}
	if f := b.flashes(); !containsAny(f, "Your cart kept its 2 items.") {
		t.Errorf("flashes after sign-in: %q, want the cart kept", f)
	}
	b.screenshot("login-cart-kept")

	// The cart is in the signed-in session now, on every page load.
	b.openOK("/")
	if c := b.cart(); !slices.Equal(c, want) {
		t.Errorf("cart after reloading: %q, want %q", c, want)
	}

	// The pre-login ID, replayed from another browser, opens nothing. As a
	// control, the current ID replayed the same way opens Alice's session.
	thief := newBrowser(t, d, "thief")
	thief.setCookie(sessionCookie, after.Value)
	thief.openOK("/")
	if u := thief.user(); u != "Alice Liddell" {
		t.Fatalf("control: the current cookie, replayed, signs in as %q, want Alice Liddell", u)
	}
	thief.setCookie(sessionCookie, before.Value)
	thief.openOK("/")
	if u := thief.user(); u != "" {
		t.Errorf("the pre-login cookie signs in as %q", u)
	}
	if c := thief.cart(); len(c) != 0 {
		t.Errorf("the pre-login cookie opens the cart %q", c)
	}
}

// The session cookie, as Chromium stores it: __Host- prefixed, HttpOnly,
// Secure, SameSite=Lax, Path=/, host-only, and a browser-session cookie
// unless remember-me was ticked, when it lasts 30 days.
func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	d := startDemo(t)

	check := func(t *testing.T, b *browser, l *netlog) *network.Cookie {
		t.Helper()
		c := b.cookie(sessionCookie)
		if c == nil {
			t.Fatalf("no %s cookie stored; cookies %v; refused by Chromium: %q", sessionCookie, cookieNames(b.cookies()), l.blockedCookies())
		}
		if !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie name %q lacks the __Host- prefix", c.Name)
		}
		if !c.HTTPOnly {
			t.Error("cookie is not HttpOnly")
		}
		if !c.Secure {
			t.Error("cookie is not Secure")
		}
		if c.SameSite != network.CookieSameSiteLax {
			t.Errorf("cookie SameSite %q, want Lax", c.SameSite)
		}
		if c.Path != "/" {
			t.Errorf("cookie Path %q, want /", c.Path)
		}
		// A host-only cookie is stored under the exact host; one with a
		// Domain attribute under ".domain".
		if c.Domain != "127.0.0.1" {
			t.Errorf("cookie Domain %q, want the host-only 127.0.0.1", c.Domain)
		}
		line := l.lastSetCookie(sessionCookie)
		if line == "" {
			t.Fatalf("no Set-Cookie for %s seen on the wire", sessionCookie)
		}
		if strings.Contains(strings.ToLower(line), "domain=") {
			t.Errorf("Set-Cookie has a Domain attribute: %s", redact(line))
		}
		if js := eval[string](b, "read document.cookie", `document.cookie`); strings.Contains(js, sessionCookie) {
			t.Errorf("scripts can read the session cookie: document.cookie = %q", js)
		}
		if blocked := l.blockedCookies(); len(blocked) > 0 {
			t.Errorf("Chromium refused cookies: %q", blocked)
		}
		return c
	}

	t.Run("browser session", func(t *testing.T) {
		b := newBrowser(t, d, "A")
		l := b.record()
		b.openOK("/")
		b.addToCart("tea")
		check(t, b, l) // anonymous
		b.login("alice", "alice-wonderland", "Alice Liddell", false)
		c := check(t, b, l)
		if !c.Session || c.Expires > 0 {
			t.Errorf("cookie without remember-me: session %v, expires %v; want a session cookie", c.Session, expiry(c))
		}
		if line := strings.ToLower(l.lastSetCookie(sessionCookie)); strings.Contains(line, "expires=") || strings.Contains(line, "max-age=") {
			t.Errorf("Set-Cookie without remember-me has a lifetime: %s", redact(line))
		}
		b.openOK("/profile")
		if s := b.text("dl.facts"); !strings.Contains(s, "a browser-session cookie") {
			t.Errorf("profile page does not say browser-session cookie: %q", s)
		}
	})

	// A visitor's sign-in page stores no session: its form's token is
	// bound to the CSRF visitor cookie, which Chromium keeps over plain
	// HTTP on 127.0.0.1 (__Host-, Secure, HttpOnly, SameSite=Lax, Path=/,
	// host-only, for the browser session); the sign-in works on its first
	// post and deletes the visitor cookie.
	t.Run("visitor cookie", func(t *testing.T) {
		b := newBrowser(t, d, "C")
		l := b.record()
		b.openOK("/login")
		if c := b.cookie(sessionCookie); c != nil {
			t.Errorf("the sign-in page stored a session for a visitor")
		}
		v := b.cookie(visitorCookie)
		if v == nil {
			t.Fatalf("no %s cookie stored; cookies %v; refused by Chromium: %q", visitorCookie, cookieNames(b.cookies()), l.blockedCookies())
		}
		if !v.HTTPOnly || !v.Secure || v.SameSite != network.CookieSameSiteLax || v.Path != "/" || v.Domain != "127.0.0.1" || !v.Session {
			t.Errorf("visitor cookie: HttpOnly %v, Secure %v, SameSite %q, Path %q, Domain %q, session %v; want HttpOnly, Secure, Lax, /, host-only, a session cookie",
				v.HTTPOnly, v.Secure, v.SameSite, v.Path, v.Domain, v.Session)
		}
		b.login("alice", "alice-wonderland", "Alice Liddell", false)
		if b.cookie(visitorCookie) != nil {
			t.Error("the visitor cookie outlived the sign-in")
		}
		check(t, b, l)
	})

	t.Run("remember me", func(t *testing.T) {
		b := newBrowser(t, d, "B")
		l := b.record()
		b.login("bob", "bob-can-fix-it", "Bob Builder", true)
		c := check(t, b, l)
		want := time.Now().Add(30 * 24 * time.Hour)
		if c.Session || c.Expires <= 0 {
			t.Fatalf("cookie with remember-me: session %v, expires %v; want a persistent cookie", c.Session, c.Expires)
		}
		if got := expiry(c); got.Sub(want).Abs() > time.Hour {
			t.Errorf("cookie with remember-me expires %v, want about 30 days from now (%v)", got.Format(time.RFC3339), want.Format(time.RFC3339))
		}
		b.openOK("/profile")
		if s := b.text("dl.facts"); !strings.Contains(s, "yes: a persistent cookie") {
			t.Errorf("profile page does not say remembered: %q", s)
		}
		b.screenshot("profile-remember-me")
	})
}

// footerHash returns the short session hash that the page footer shows.
func (b *browser) footerHash() string {
	b.t.Helper()
	return b.text("footer code")
}

// setCookie stores a session cookie for the demo, as a thief would.
func (b *browser) setCookie(name, value string) {
	b.t.Helper()
	b.do("set cookie "+name, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{
			Name: name, Value: value, URL: b.base + "/", Path: "/",
			Secure: ptr(true), HTTPOnly: ptr(true), SameSite: network.CookieSameSiteLax,
		})
		return chromedp.Void{}, err
	})
	if c := b.cookie(name); c == nil || c.Value != value {
		b.t.Fatalf("browser %s: cookie %s not stored", b.name, name)
	}
}

func cookieNames(cs []*network.Cookie) []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}

// expiry returns a stored cookie's expiry time.
func expiry(c *network.Cookie) time.Time {
	sec, frac := math.Modf(c.Expires)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// redact hides a Set-Cookie line's value, which is a session credential.
func redact(line string) string {
	name, rest, _ := strings.Cut(line, "=")
	_, attrs, _ := strings.Cut(rest, ";")
	return name + "=…;" + attrs
}
