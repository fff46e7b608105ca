package attack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Attack scenario 10 (S-26): with MaxSessionsPerUser 3, a fourth login
// evicts the oldest session, and twenty parallel logins leave at most
// three live sessions, in the store and as working cookies.
func TestConcurrentSessionCap(t *testing.T) {
	a := newApp(t, func(c *appConfig) { c.keycard.MaxSessionsPerUser = 3 })
	var first []*client
	for range 4 {
		c := a.client()
		c.mustLogin("capped")
		first = append(first, c)
	}
	if first[0].me() != "" {
		t.Error("the oldest session survived a fourth login")
	}
	var clients []*client
	var wg sync.WaitGroup
	for range 20 {
		c := a.client()
		clients = append(clients, c)
		wg.Go(func() {
			if res, err := c.tryLogin("capped"); err != nil || res.code != http.StatusOK {
				t.Errorf("parallel login: %v %v", res, err)
			}
		})
	}
	wg.Wait()
	infos, err := a.m.Sessions(context.Background(), "capped")
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, c := range append(first, clients...) {
		if c.me() == "capped" {
			live++
		}
	}
	if len(infos) > 3 || live > 3 || live == 0 {
		t.Errorf("after 20 parallel logins: %d sessions stored, %d cookies work; want 1 to 3", len(infos), live)
	}
	if a.events("destroyed", "session-limit") < 18 {
		t.Errorf("%d session-limit events, want at least 18", a.events("destroyed", "session-limit"))
	}
}

// Attack scenario 11, passwords (S-66): a hundred wrong passwords from one
// address are answered 401 until the limit (5), then 429 with
// Retry-After, even for the right password; a client that writes a new
// X-Forwarded-For on every attempt changes nothing, since the peer is not
// a trusted proxy. Reaching the limit is reported as an event.
func TestBruteForceIsThrottled(t *testing.T) {
	a := newApp(t)
	c := a.client()
	tok := c.token()
	codes := map[int]int{}
	for i := range 100 {
		form := url.Values{"user": {fmt.Sprintf("victim%d", i%3)}, "password": {"guess" + fmt.Sprint(i)}, "csrf_token": {tok}}
		var hdr []string
		if i%2 == 1 {
			hdr = append(hdr, fmt.Sprintf("X-Forwarded-For: 198.51.100.%d", i), fmt.Sprintf("X-Real-IP: 203.0.113.%d", i))
		}
		res := c.post("/login", form, hdr...)
		codes[res.code]++
		switch {
		case i < 5 && res.code != http.StatusUnauthorized:
			t.Fatalf("attempt %d: %v, want 401", i, res)
		case i >= 5 && (res.code != http.StatusTooManyRequests || res.header.Get("Retry-After") == ""):
			t.Fatalf("attempt %d (X-Forwarded-For: %v): %v, want 429 with Retry-After", i, i%2 == 1, res)
		}
	}
	res := c.post("/login", url.Values{"user": {"victim0"}, "password": {password("victim0")}, "csrf_token": {tok}},
		"X-Forwarded-For: 192.0.2.99")
	if res.code != http.StatusTooManyRequests {
		t.Errorf("the right password from the throttled address: %v, want 429", res)
	}
	if a.events("login-failures", "") == 0 {
		t.Error("no login-failures event")
	}
	t.Logf("statuses: %v", codes)
}

// Attack scenario 12 (S-67, S-28, S-39, S-44): oversized inputs are cut
// off without harm. A 100 KiB Cookie header gets 431 from the server; a
// session cookie among 5,000 others still works; a 10 KB key ID and a
// bearer token one byte over 8 KiB get the uniform 401; a 1 MiB session
// value is refused and leaves the stored session byte for byte as it
// was.
func TestOversizeInputs(t *testing.T) {
	a := newApp(t)
	c := a.client()
	at, _ := pairOf(t, c.mustLogin("victim", "api"))
	v := c.session()

	res := c.raw("GET", "/me", "a="+strings.Repeat("b", 100<<10))
	if res.code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("100 KiB Cookie header: %v, want 431", res)
	}
	var many strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&many, "c%d=v; ", i)
	}
	if got := c.meWith(many.String() + cookieName + "=" + v); got != "victim" {
		t.Errorf("the session cookie among 5,000 others reads %q", got)
	}

	parts := strings.Split(at, ".")
	hdr := b64json(map[string]string{"alg": "EdDSA", "kid": strings.Repeat("k", 10<<10), "typ": "at+jwt"})
	for name, tok := range map[string]string{
		"10 KB kid":       hdr + "." + parts[1] + "." + parts[2],
		"8 KiB + 1 token": strings.Repeat("a", 8<<10+1),
	} {
		start := time.Now()
		if res := c.bearer("/api/me", tok); res.code != http.StatusUnauthorized || strings.TrimSpace(res.body) != unauthorized {
			t.Errorf("%s: %v", name, res)
		}
		t.Logf("%s refused in %v", name, time.Since(start))
	}

	csrfToken := c.token() // gives the session its CSRF secret: a write
	id, _ := cookieID(v)
	key := storeKey(id)
	before, err := a.st.Store.Load(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	req := c.newRequest("POST", "/put", strings.NewReader(strings.Repeat("x", 1<<20)), "X-CSRF-Token: "+csrfToken)
	if res := c.do(req); res.code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB Put: %v, want 413", res)
	}
	after, err := a.st.Store.Load(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if string(before.Data) != string(after.Data) || before.Version != after.Version {
		t.Error("a refused 1 MiB Put changed the stored session")
	}
	if c.session() != v || c.me() != "victim" {
		t.Error("the session did not survive")
	}
}

// Attack scenario 11, guessing over the network (S-66): with
// Config.MaxRejectsPerMinute at 20, an address that keeps presenting
// refused session cookies is answered 429 with Retry-After after the
// twentieth, without the handler running, whatever X-Forwarded-For it
// claims (the peer is no trusted proxy); requests without a session
// cookie are still served. The limit is per address, so every client
// behind that address is limited with it; behind a proxy, TrustedProxies
// must be set.
func TestForgedCookieFloodIsThrottled(t *testing.T) {
	a := newApp(t, func(c *appConfig) { c.keycard.MaxRejectsPerMinute = 20 })
	c := a.client()
	c.get("/")
	kid := cookieKeyID(c.session())
	limited := 0
	for i := range 100 {
		v, _ := randomCookie(kid)
		var hdr []string
		if i%2 == 1 {
			hdr = append(hdr, fmt.Sprintf("X-Forwarded-For: 198.51.100.%d", i))
		}
		res := c.raw("GET", "/me", cookieName+"="+v, hdr...)
		switch {
		case res.code == http.StatusTooManyRequests && res.header.Get("Retry-After") != "":
			limited++
		case i >= 20:
			t.Fatalf("forged cookie %d: %v, want 429 with Retry-After", i, res)
		case res.code != http.StatusUnauthorized:
			t.Fatalf("forged cookie %d: %v, want 401", i, res)
		}
	}
	if limited != 80 {
		t.Errorf("%d of 100 forged cookies limited, want the 80 past the limit", limited)
	}
	if res := c.raw("GET", "/", ""); res.code != http.StatusOK {
		t.Errorf("a request without a session cookie from the limited address: %v", res)
	}
	if a.events("rejected", "rate-limited") != 1 {
		t.Error("want one rate-limited event")
	}
}
