package e2e

import (
	"context"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// attackerPage is another site's page that makes the visitor's browser post
// a form to the demo as soon as it loads. Its token is made up: the attacker
// cannot read the victim's pages, so cannot know a real one.
var attackerPage = template.Must(template.New("attacker").Parse(`<!doctype html>
<title>You won a prize</title>
<p>Claiming your prize…</p>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<input type="hidden" name="csrf_token" value="bm90LWEtcmVhbC10b2tlbi1ub3QtYS1yZWFsLXRva2Vu">
<button>Claim</button>
</form>
<script>document.forms[0].submit()</script>
`))

// A page of another origin posts a form to the demo in the signed-in
// victim's browser. The demo refuses it with 403 and nothing changes: the
// victim stays signed in with the same cookie and the same cart.
//
// From 127.0.0.2 the post is cross-site: Chromium labels it so in
// Sec-Fetch-Site and leaves the SameSite=Lax cookie out. From another port
// of 127.0.0.1 it is same-site, so Chromium sends the cookie, and only the
// demo's CSRF protection stands in the way.
func TestCrossOriginFormRefused(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	b := newBrowser(t, d, "victim")
	b.openOK("/")
	b.addToCart("tea")
	b.login("alice", "alice-wonderland", "Alice Liddell", false)
	l := b.record()
	wantCart := []string{"1 × Green tea"}

	for _, tc := range []struct {
		name, listen, path string
		fields             map[string]string
		fetchSite          string
		cookieSent         bool
		screenshot         string
	}{
		{"cross-site add to cart", "127.0.0.2:0", "/cart/add", map[string]string{"product": "cake"}, "cross-site", false, "csrf-form-refused"},
		{"same-site sign out", "127.0.0.1:0", "/logout", nil, "same-site", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := b.on(t)
			target := d.URL + tc.path
			attacker := serveAttacker(t, tc.listen, target, tc.fields)
			before := b.cookie(sessionCookie)
			if before == nil {
				t.Fatal("no session cookie before the attack")
			}

			b.visitAndWait(attacker+"/", target)
			r := l.find("POST", target)
			if r == nil {
				t.Fatalf("no POST %s recorded", target)
			}
			if r.Status != http.StatusForbidden {
				t.Errorf("forged POST %s: status %d, want 403", tc.path, r.Status)
			}
			if got := header(r.Headers, "Origin"); got != attacker {
				t.Errorf("forged POST: Origin %q, want %q", got, attacker)
			}
			if got := header(r.Headers, "Sec-Fetch-Site"); got != tc.fetchSite {
				t.Errorf("forged POST: Sec-Fetch-Site %q, want %q", got, tc.fetchSite)
			}
			if sent := slices.Contains(r.SentCookies, sessionCookie); sent != tc.cookieSent {
				t.Errorf("forged POST: session cookie sent %v, want %v (cookies sent: %q)", sent, tc.cookieSent, r.SentCookies)
			}
			if h := b.text("main h1"); h != "Form refused" {
				t.Errorf("page after the forged POST: heading %q, want Form refused", h)
			}
			if tc.screenshot != "" {
				b.screenshot(tc.screenshot)
			}

			after := b.cookie(sessionCookie)
			if after == nil || after.Value != before.Value {
				t.Errorf("the forged POST changed the session cookie")
			}
			b.openOK("/")
			if u := b.user(); u != "Alice Liddell" {
				t.Errorf("after the forged POST: signed in as %q, want Alice Liddell", u)
			}
			if c := b.cart(); !slices.Equal(c, wantCart) {
				t.Errorf("after the forged POST: cart %q, want %q", c, wantCart)
			}
		})
	}
}

// serveAttacker serves the attacker's page on addr (host:0) and returns its
// origin.
func serveAttacker(t *testing.T, addr, action string, fields map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("attacker's server on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		attackerPage.Execute(w, struct {
			Action string
			Fields map[string]string
		}{action, fields})
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// visitAndWait opens u without waiting for it to load, as the page moves on
// by itself, and waits until the tab has loaded the page at want.
func (b *browser) visitAndWait(u, want string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: u}); err != nil {
		b.fail("open "+u, err)
	}
	js := fmt.Sprintf(`location.href === %q && document.readyState === "complete"`, want)
	var err error
	for ctx.Err() == nil {
		var done bool
		// Evaluation fails while a navigation swaps the document: retry.
		if done, err = chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && done {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	b.fail(fmt.Sprintf("wait for %s after opening %s", want, u), fmt.Errorf("%v (last evaluation: %v)", ctx.Err(), err))
}
