package attack

import (
	"net/http"
	"strings"
	"testing"
)

// Attack scenario 4 (S-04, S-30, S-31): every altered form of a live
// session cookie is refused with the same 401, before any store call:
// each of its characters changed, truncations, an appended '=', the value
// under other cookie names, and other credentials of the same user (a
// CSRF token, a refresh token, an access token) in its place. The refusals
// are logged as events.
func TestTamperedCookiesAreRefused(t *testing.T) {
	a := newApp(t)
	victim := a.client()
	res := victim.mustLogin("victim", "api")
	at, rt := pairOf(t, res)
	csrfToken := victim.token()
	good := victim.session()
	if victim.meWith(cookieName+"="+good) != "victim" {
		t.Fatal("control: the genuine cookie does not work")
	}
	var variants []string
	for i := range good {
		for _, c := range []byte{'A', '_'} {
			if good[i] != c {
				b := []byte(good)
				b[i] = c
				variants = append(variants, cookieName+"="+string(b))
				break
			}
		}
	}
	for _, n := range []int{1, 2, 4, 46, 91} {
		variants = append(variants, cookieName+"="+good[:len(good)-n])
	}
	variants = append(variants,
		cookieName+"="+good+"=", cookieName+"="+good+"==", cookieName+"="+good+"A", cookieName+`="`+good+`"`,
		"__Secure-keycard="+good, "keycard="+good, "__Host-keycard2="+good, "__host-keycard="+good,
		cookieName+"="+csrfToken, cookieName+"="+rt, cookieName+"="+at,
		cookieName+"="+strings.Repeat("A", len(good)), cookieName+"=")
	loads := a.st.loads.Load()
	before := a.events("rejected", "bad-mac") + a.events("rejected", "malformed")
	for _, v := range variants {
		if got := victim.meWith(v); got != "" {
			t.Errorf("%.60q... authenticated %q", v, got)
		}
	}
	if n := a.st.loads.Load() - loads; n != 0 {
		t.Errorf("%d altered cookies caused %d store loads, want 0", len(variants), n)
	}
	// Each refusal is an event; the default hook may rate-limit the Warn
	// log lines of a burst like this one, so at least one must show.
	if got := a.events("rejected", "bad-mac") + a.events("rejected", "malformed") - before; got == 0 {
		t.Errorf("no bad-mac or malformed event logged for %d altered cookies", len(variants))
	}
	if victim.meWith(cookieName+"="+good) != "victim" {
		t.Error("the genuine cookie stopped working")
	}
}

// Attack scenario 15 (S-11): a Cookie header with two session cookies,
// the victim's and the attacker's, in either order, authenticates
// neither (the outcome cannot depend on order), and a case variant of
// the name is another cookie, ignored.
func TestDuplicateAndCaseVariantCookies(t *testing.T) {
	a := newApp(t)
	victim, attacker := a.client(), a.client()
	victim.mustLogin("victim")
	attacker.mustLogin("attacker")
	v, x := victim.session(), attacker.session()
	for _, header := range []string{
		cookieName + "=" + x + "; " + cookieName + "=" + v,
		cookieName + "=" + v + "; " + cookieName + "=" + x,
		cookieName + "=" + v + "; other=1; " + cookieName + "=" + v,
		"__host-keycard=" + v,
		"__HOST-KEYCARD=" + v,
		"__Host-Keycard=" + v,
	} {
		if got := victim.meWith(header); got != "" {
			t.Errorf("%.50q...: authenticated %q", header, got)
		}
	}
	// Two Cookie header fields are one list of cookies (RFC 9113 allows
	// splitting); duplicates across them are refused too.
	res := victim.raw("GET", "/me", cookieName+"="+x, "Cookie: "+cookieName+"="+v)
	if res.code != http.StatusUnauthorized {
		t.Errorf("duplicates across two Cookie fields: %v", res)
	}
	if a.events("rejected", "duplicate-cookie") < 3 {
		t.Error("no duplicate-cookie events")
	}
	if victim.me() != "victim" || attacker.me() != "attacker" {
		t.Error("the sessions did not survive the attempts")
	}
}
