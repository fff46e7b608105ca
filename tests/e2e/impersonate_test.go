package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// The support user acts as Alice from the profile page: every page shows
// the marker "Acting as Alice Liddell on behalf of Sam Support", whose
// "End" button restores the support user's own session.
func TestImpersonationMarker(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	s := newBrowser(t, d, "support")
	s.login("support", "support-on-duty", "Sam Support", false)
	s.openOK("/profile")
	s.do("choose Alice", chromedp.SetValue(chromedp.CSS(`form[action="/impersonate"] select[name="user"]`), "alice"))
	s.submitOK("act as Alice", `form[action="/impersonate"] button`)
	const marker = "Acting as Alice Liddell on behalf of Sam Support"
	for _, page := range []string{"/", "/profile", "/devices"} {
		s.openOK(page)
		if got := s.text(".acting span"); got != marker {
			t.Errorf("%s while impersonating: marker %q, want %q", page, got, marker)
		}
		if u := s.user(); u != "Alice Liddell" {
			t.Errorf("%s while impersonating: signed in as %q, want Alice Liddell", page, u)
		}
	}
	s.screenshot("impersonation-marker")

	s.submitOK("end the impersonation", `.acting form[action="/impersonate/end"] button`)
	if n := s.count(".acting"); n != 0 {
		t.Errorf("after ending the impersonation: %d markers, want none", n)
	}
	if u := s.user(); u != "Sam Support" {
		t.Errorf("after ending the impersonation: signed in as %q, want Sam Support", u)
	}
	if f := s.flashes(); !containsAny(f, "Stopped acting as Alice Liddell") {
		t.Errorf("flashes after ending the impersonation: %q", f)
	}
}
