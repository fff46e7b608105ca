package demo

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/cmd/keycard/internal/keyfile"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

func TestAnonymousCart(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		c := newClient(t, newServer(t, st).URL)
		resp, body := c.get("/")
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, body, "Empty. Add something")
		for range 2 {
			resp, _ := c.submit("/", "/cart/add", url.Values{"product": {"tea"}})
			wantStatus(t, resp, http.StatusSeeOther)
		}
		c.submit("/", "/cart/add", url.Values{"product": {"cake"}})
		_, body = c.get("/")
		wantContains(t, body, "2 × Green tea", "1 × Lemon cake", "€17.20", "You are anonymous")

		resp, _ = c.submit("/", "/cart/remove", url.Values{"product": {"tea"}})
		wantStatus(t, resp, http.StatusSeeOther)
		_, body = c.get("/")
		wantContains(t, body, "1 × Green tea")

		resp, _ = c.submit("/", "/cart/add", url.Values{"product": {"caviar"}})
		wantStatus(t, resp, http.StatusBadRequest)
	})
}

// storedSessions counts the live records of st.
func storedSessions(t *testing.T, st store.Store) int {
	t.Helper()
	n := 0
	if err := st.(store.Scanner).Scan(t.Context(), func(store.Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// F1 in the demo: cookie-less GETs of every page an anonymous visitor can
// load, the sign-in page included, store no session; adding to the cart
// stores one; the sign-in form of a page loaded without a cookie works on
// its first post.
func TestAnonymousPagesStoreNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		base := newServer(t, st).URL
		pages := map[string]int{
			"/": 200, "/login": 200, "/login?next=/profile": 200, "/api": 200, "/sealed/": 200,
			"/profile": 303, "/devices": 303, "/no-such-page": 404, "/.well-known/jwks.json": 200,
		}
		for page, code := range pages {
			for range 3 {
				resp, _ := newClient(t, base).get(page)
				wantStatus(t, resp, code)
				for _, c := range resp.Cookies() {
					// Each Manager's visitor cookie: the shop's, or the
					// sealed-cookie page's.
					if c.Name != CookieName+"-csrf" && c.Name != SealedCookieName+"-csrf" {
						t.Errorf("GET %s set the cookie %s", page, c.Name)
					}
				}
			}
		}
		if n := storedSessions(t, st); n != 0 {
			t.Fatalf("after cookie-less GETs of every anonymous page: %d stored sessions, want 0", n)
		}

		c := newClient(t, base)
		resp, _ := c.submit("/", "/cart/add", url.Values{"product": {"tea"}})
		wantStatus(t, resp, http.StatusSeeOther)
		c.get("/")
		if n := storedSessions(t, st); n != 1 {
			t.Fatalf("after one visitor added to the cart: %d stored sessions, want 1", n)
		}

		// The sign-in form works on its first post, after a wrong
		// password too.
		c = newClient(t, base)
		resp, body := c.login("alice", "guess", false)
		wantStatus(t, resp, http.StatusUnauthorized)
		wantContains(t, body, "Wrong user name or password.")
		resp, _ = c.login("alice", "alice-wonderland", false)
		wantStatus(t, resp, http.StatusSeeOther)
		_, body = c.follow(resp)
		wantContains(t, body, "Welcome, Alice Liddell", "from a new session")
		if n := storedSessions(t, st); n != 2 {
			t.Errorf("after one visitor signed in: %d stored sessions, want 2", n)
		}
	})
}

// I-4: the demo limits refused session cookies per address
// (MaxRejectsPerMinute) and new anonymous sessions per network
// (Visitors.PerMinute): one address replaying forged cookies, or storing
// cart after cart, gets 429 Too Many Requests.
func TestDemoLimitsFloods(t *testing.T) {
	t.Run("forged cookies", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, newServer(t, memory.New(memory.Config{})).URL)
		codes := map[int]int{}
		for i := range maxRejectsPerMinute + 5 {
			c.setCookie(CookieName, strings.Repeat("A", 80)+strconv.Itoa(i))
			resp, _ := c.get("/")
			codes[resp.StatusCode]++
		}
		if codes[http.StatusTooManyRequests] == 0 || codes[http.StatusOK] > maxRejectsPerMinute {
			t.Errorf("statuses %v for %d forged cookies: want 429 past %d", codes, maxRejectsPerMinute+5, maxRejectsPerMinute)
		}
	})
	t.Run("new anonymous sessions", func(t *testing.T) {
		t.Parallel()
		base := newServer(t, memory.New(memory.Config{})).URL
		codes := map[int]int{}
		for range newVisitorsPerMinute + 5 {
			resp, _ := newClient(t, base).submit("/", "/cart/add", url.Values{"product": {"tea"}})
			codes[resp.StatusCode]++
		}
		if codes[http.StatusSeeOther] != newVisitorsPerMinute || codes[http.StatusTooManyRequests] != 5 {
			t.Errorf("statuses %v for %d new carts: want %d stored and 429 past them", codes, newVisitorsPerMinute+5, newVisitorsPerMinute)
		}
	})
}

func TestLoginKeepsCartAndChangesSession(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		c := newClient(t, newServer(t, st).URL)
		c.submit("/", "/cart/add", url.Values{"product": {"coffee"}})
		_, body := c.get("/")
		before, cookieBefore := hashOf(body), c.cookie(CookieName)
		if before == "" || cookieBefore == "" {
			t.Fatalf("no session before login: hash %q", before)
		}

		resp, _ := c.login("alice", "alice-wonderland", false)
		wantStatus(t, resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("redirected to %q, want /", loc)
		}
		_, body = c.follow(resp)
		after := hashOf(body)
		if after == "" || after == before {
			t.Fatalf("session hash %q before login, %q after: want a new one", before, after)
		}
		if c.cookie(CookieName) == cookieBefore {
			t.Error("the cookie did not change at login")
		}
		wantContains(t, body, "Welcome, Alice Liddell", "session "+before+"…", "session "+after+"…",
			"Your cart kept its 1 item.", "1 × Espresso beans", "Signed in as Alice Liddell")

		// The pre-login cookie no longer works: no fixation.
		old := newClient(t, c.base)
		old.setCookie(CookieName, cookieBefore)
		_, body = old.get("/")
		wantContains(t, body, "Empty. Add something")
	})
}

func TestWrongPasswordAndLockout(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		c := newClient(t, newServer(t, st).URL)
		for i := 1; i < clientFailureLimit; i++ {
			resp, body := c.login("alice", "guess", false)
			wantStatus(t, resp, http.StatusUnauthorized)
			wantContains(t, body, "Wrong user name or password.")
		}
		resp, body := c.login("alice", "guess", false)
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, body, "Too many failed sign-ins")
		if resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After on a locked-out attempt")
		}
		// This network is refused even with the right password, until the
		// window ends.
		resp, _ = c.login("alice", "alice-wonderland", false)
		wantStatus(t, resp, http.StatusTooManyRequests)
		// Another account is not locked.
		resp, _ = c.login("bob", "bob-can-fix-it", false)
		wantStatus(t, resp, http.StatusSeeOther)
		// Unknown users fail like wrong passwords.
		resp, _ = newClient(t, c.base).login("mallory", "x", false)
		wantStatus(t, resp, http.StatusUnauthorized)
	})
}

func TestRememberMe(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		srv := newServer(t, st)
		for _, remember := range []bool{false, true} {
			c := newClient(t, srv.URL)
			resp, _ := c.login("bob", "bob-can-fix-it", remember)
			wantStatus(t, resp, http.StatusSeeOther)
			var set *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == CookieName {
					set = ck
				}
			}
			if set == nil {
				t.Fatal("no session cookie set at login")
			}
			if persistent := set.MaxAge > 0 || !set.Expires.IsZero(); persistent != remember {
				t.Errorf("remember=%v: cookie persistent=%v (Max-Age %d, Expires %v)", remember, persistent, set.MaxAge, set.Expires)
			}
			if !set.HttpOnly || !set.Secure || set.SameSite != http.SameSiteLaxMode || set.Path != "/" {
				t.Errorf("cookie attributes: %+v", set)
			}
			_, body := c.get("/profile")
			if remember {
				wantContains(t, body, "yes: a persistent cookie")
			} else {
				wantContains(t, body, "no: a browser-session cookie")
			}
		}
	})
}

func TestProfile(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		c := newClient(t, newServer(t, st).URL)
		resp, _ := c.get("/profile")
		wantStatus(t, resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/login?next=/profile" {
			t.Fatalf("anonymous /profile redirected to %q", loc)
		}
		_, body := c.follow(resp)
		wantContains(t, body, "Sign in to see that page.", `name="next" value="/profile"`)

		resp, _ = c.submit("/login?next=/profile", "/login", url.Values{"username": {"alice"}, "password": {"alice-wonderland"}})
		if loc := resp.Header.Get("Location"); loc != "/profile" {
			t.Errorf("login redirected to %q, want /profile", loc)
		}
		resp, body = c.get("/profile")
		wantStatus(t, resp, http.StatusOK)
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("profile Cache-Control %q, want no-store", cc)
		}
		wantContains(t, body, "Created", "Last seen", "Idle deadline", "Absolute deadline", "Signed in", "just now", "in 30 min", "in 8 h")

		before := hashOf(body)
		resp, _ = c.submit("/profile", "/profile/renew", nil)
		_, body = c.follow(resp)
		wantContains(t, body, "New session ID: "+before+"…")
		if hashOf(body) == before {
			t.Error("Renew kept the session hash")
		}
	})
}

var sessionField = regexp.MustCompile(`name="session" value="([0-9a-f]{64})"`)

func TestDevicesRevokeAndLogOutEverywhere(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		srv := newServer(t, st)
		laptop, phone := newClient(t, srv.URL), newClient(t, srv.URL)
		phone.ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1"
		laptop.login("alice", "alice-wonderland", false)
		phone.login("alice", "alice-wonderland", true)
		newClient(t, srv.URL).login("bob", "bob-can-fix-it", false)

		_, body := laptop.get("/devices")
		hashes := sessionField.FindAllStringSubmatch(body, -1)
		if len(hashes) != 2 {
			t.Fatalf("devices page lists %d sessions, want alice's 2:\n%s", len(hashes), body)
		}
		wantContains(t, body, "Firefox on Linux", "Safari on iPhone", "this device", "remembered", "127.0.0.1")
		mine := hashOf(body)
		var phoneHash string
		for _, h := range hashes {
			if !strings.HasPrefix(h[1], mine) {
				phoneHash = h[1]
			}
		}

		// Alice cannot revoke Bob's session, nor one that is not hers.
		resp, _ := laptop.submit("/devices", "/devices/revoke", url.Values{"session": {strings.Repeat("ab", 32)}})
		_, body = laptop.follow(resp)
		wantContains(t, body, "That session had already ended.")

		resp, _ = laptop.submit("/devices", "/devices/revoke", url.Values{"session": {phoneHash}})
		wantStatus(t, resp, http.StatusSeeOther)
		_, body = laptop.follow(resp)
		wantContains(t, body, "Signed out Safari on iPhone")
		if n := len(sessionField.FindAllString(body, -1)); n != 1 {
			t.Errorf("after revoking the phone, %d sessions listed, want 1", n)
		}
		resp, _ = phone.get("/profile")
		wantStatus(t, resp, http.StatusSeeOther) // signed out

		// Log out everywhere ends browser and API sessions alike.
		phone.login("alice", "alice-wonderland", false)
		access := issue(t, laptop.base, "alice", "alice-wonderland")["access_token"].(string)
		if code, _ := me(t, laptop.base, access); code != http.StatusOK {
			t.Fatalf("/api/me before log out everywhere: %d", code)
		}
		_, body = laptop.get("/devices")
		if n := len(sessionField.FindAllString(body, -1)); n != 3 {
			t.Fatalf("devices page lists %d sessions, want 3 (laptop, phone, API)", n)
		}
		wantContains(t, body, "Go client")
		resp, _ = laptop.submit("/devices", "/devices/revoke-all", nil)
		_, body = laptop.follow(resp)
		wantContains(t, body, "Signed out everywhere: this browser and 2 other session(s)", "You are anonymous")
		if resp, _ := phone.get("/profile"); resp.StatusCode != http.StatusSeeOther {
			t.Error("the phone is still signed in after log out everywhere")
		}
		if code, _ := me(t, laptop.base, access); code != http.StatusUnauthorized {
			t.Errorf("/api/me after log out everywhere: got %d, want 401", code)
		}
	})
}

func TestLogoutIsPostOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		c := newClient(t, newServer(t, st).URL)
		c.login("alice", "alice-wonderland", false)
		resp, _ := c.get("/logout")
		wantStatus(t, resp, http.StatusMethodNotAllowed)
		_, body := c.get("/")
		wantContains(t, body, "Signed in as Alice") // still signed in

		old := c.cookie(CookieName)
		resp, _ = c.submit("/", "/logout", nil)
		wantStatus(t, resp, http.StatusSeeOther)
		_, body = c.follow(resp)
		wantContains(t, body, "Signed out. The session is deleted on the server", "You are anonymous")

		// Replaying the old cookie finds nothing: the record is gone.
		replay := newClient(t, c.base)
		replay.setCookie(CookieName, old)
		resp, _ = replay.get("/profile")
		wantStatus(t, resp, http.StatusSeeOther)
	})
}

func TestCSRF(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		c := newClient(t, newServer(t, st).URL)
		_, body := c.get("/")
		tok := formToken(t, body, "/cart/add")

		// A cross-site form post, with the victim's cookie and even a token.
		req, _ := http.NewRequest("POST", c.base+"/cart/add", strings.NewReader(url.Values{"product": {"tea"}, "csrf_token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		resp, body := c.do(req)
		wantStatus(t, resp, http.StatusForbidden)
		wantContains(t, body, "Form refused")

		// A same-origin post without the token.
		resp, _ = c.post("/cart/add", url.Values{"product": {"tea"}})
		wantStatus(t, resp, http.StatusForbidden)
		// A token in the URL is not a token.
		resp, _ = c.post("/cart/add?csrf_token="+url.QueryEscape(tok), url.Values{"product": {"tea"}})
		wantStatus(t, resp, http.StatusForbidden)

		_, body = c.get("/")
		wantContains(t, body, "Empty. Add something") // nothing was added

		// Login CSRF: a fresh visitor has no secret, so a forged login fails.
		fresh := newClient(t, c.base)
		resp, _ = fresh.post("/login", url.Values{"username": {"alice"}, "password": {"alice-wonderland"}, "csrf_token": {tok}})
		wantStatus(t, resp, http.StatusForbidden)

		resp, _ = c.post("/cart/add", url.Values{"product": {"tea"}, "csrf_token": {tok}})
		wantStatus(t, resp, http.StatusSeeOther)
	})
}

func TestTokenAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		base := newServer(t, st).URL
		pair := issue(t, base, "alice", "alice-wonderland")
		if pair["token_type"] != "Bearer" || pair["expires_in"].(float64) != 600 {
			t.Errorf("token response: %v", pair)
		}
		code, claims := me(t, base, pair["access_token"].(string))
		if code != http.StatusOK || claims["user"] != "alice" || claims["name"] != "Alice Liddell" {
			t.Fatalf("/api/me: %d %v", code, claims)
		}
		if code, _ := me(t, base, ""); code != http.StatusUnauthorized {
			t.Errorf("/api/me without a token: %d, want 401", code)
		}
		if code, _ := me(t, base, pair["access_token"].(string)+"x"); code != http.StatusUnauthorized {
			t.Errorf("/api/me with a forged token: %d, want 401", code)
		}

		// JSON credentials work too; wrong ones do not.
		resp := postJSON(t, base+"/api/token", `{"username":"bob","password":"bob-can-fix-it"}`)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("JSON token request: %d", resp.StatusCode)
		}
		resp = postJSON(t, base+"/api/token", `{"username":"bob","password":"nope"}`)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(readAll(t, resp), "invalid_grant") {
			t.Errorf("wrong password: %d", resp.StatusCode)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("token response Cache-Control %q", cc)
		}

		// Refresh rotates: a new pair for the same session.
		resp, err := http.PostForm(base+"/api/refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pair["refresh_token"].(string)}})
		if err != nil {
			t.Fatal(err)
		}
		var next map[string]any
		json.NewDecoder(resp.Body).Decode(&next)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || next["refresh_token"] == pair["refresh_token"] {
			t.Fatalf("refresh: %d %v", resp.StatusCode, next)
		}
		code, claims2 := me(t, base, next["access_token"].(string))
		if code != http.StatusOK || claims2["session"] != claims["session"] {
			t.Errorf("refreshed token: %d, session %v, want %v", code, claims2["session"], claims["session"])
		}

		// The JWKS publishes the signing key.
		resp, err = http.Get(base + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		var jwks struct {
			Keys []struct{ Kty, Crv, Alg, Kid string }
		}
		json.NewDecoder(resp.Body).Decode(&jwks)
		resp.Body.Close()
		if len(jwks.Keys) != 1 || jwks.Keys[0].Alg != "EdDSA" || jwks.Keys[0].Kid == "" {
			t.Errorf("JWKS: %+v", jwks)
		}

		// Logging out ends the session: strict verification refuses its
		// access tokens at once, and its refresh token is dead.
		req, _ := http.NewRequest("POST", base+"/api/logout", nil)
		req.Header.Set("Authorization", "Bearer "+next["access_token"].(string))
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("/api/logout: %d", resp.StatusCode)
		}
		if code, _ := me(t, base, next["access_token"].(string)); code != http.StatusUnauthorized {
			t.Errorf("/api/me after logout: %d, want 401", code)
		}
		resp, _ = http.PostForm(base+"/api/refresh", url.Values{"refresh_token": {next["refresh_token"].(string)}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("refresh after logout: %d, want 400", resp.StatusCode)
		}
		resp.Body.Close()
	})
}

func TestSealedPage(t *testing.T) {
	st := memory.New(memory.Config{})
	c := newClient(t, newServer(t, st).URL)
	_, body := c.get("/sealed/")
	wantContains(t, body, "none yet: count one to create it")
	for range 3 {
		resp, _ := c.submit("/sealed/", "/sealed/count", nil)
		wantStatus(t, resp, http.StatusSeeOther)
	}
	_, body = c.get("/sealed/")
	wantContains(t, body, `<p class="big">3</p>`, "bytes</strong> sent by your browser")
	if c.cookie(SealedCookieName) == "" {
		t.Fatal("no sealed cookie")
	}
	if n := st.Len(); n != 0 {
		t.Errorf("the store holds %d records; a sealed session must keep nothing on the server", n)
	}

	resp, _ := c.submit("/sealed/", "/sealed/note", url.Values{"note": {"hello from a cookie"}})
	_, body = c.follow(resp)
	wantContains(t, body, "hello from a cookie")
	resp, _ = c.submit("/sealed/", "/sealed/note", url.Values{"note": {strings.Repeat("x", 3000)}})
	_, body = c.follow(resp)
	wantContains(t, body, "does not fit in a cookie", "hello from a cookie", `<p class="big">3</p>`)

	// The main session's token is no good for the sealed forms (once it is
	// stored: before, both are the visitor's, bound to one cookie).
	resp, _ = c.submit("/", "/cart/add", url.Values{"product": {"tea"}})
	wantStatus(t, resp, http.StatusSeeOther)
	_, home := c.get("/")
	resp, _ = c.post("/sealed/count", url.Values{"csrf_token": {formToken(t, home, "/cart/add")}})
	wantStatus(t, resp, http.StatusForbidden)

	resp, _ = c.submit("/sealed/", "/sealed/reset", nil)
	_, body = c.follow(resp)
	wantContains(t, body, "The sealed cookie is gone", `<p class="big">0</p>`)
}

func TestSecurityHeaders(t *testing.T) {
	st := memory.New(memory.Config{})
	c := newClient(t, newServer(t, st).URL)
	c.login("alice", "alice-wonderland", false)
	for _, path := range []string{"/", "/profile", "/devices", "/sealed/", "/api", "/login", "/static/style.css", "/api/me", "/.well-known/jwks.json", "/nowhere"} {
		resp, _ := c.get(path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: missing nosniff or Referrer-Policy", path)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", path)
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") && resp.StatusCode == http.StatusOK && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q on a personal page", path, h.Get("Cache-Control"))
		}
	}

	tlsApp, err := New(Config{Store: st, Keys: keyfile.Generate(time.Now()), Origin: "https://127.0.0.1", TLS: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	tlsApp.ServeHTTP(rec, httptest.NewRequest("GET", "https://127.0.0.1/", nil))
	if got := rec.Header().Get("Strict-Transport-Security"); got != "max-age=300" {
		t.Errorf("HSTS under TLS: %q", got)
	}
}

// issue gets a token pair from /api/token.
func issue(t *testing.T, base, user, password string) map[string]any {
	t.Helper()
	resp, err := http.PostForm(base+"/api/token", url.Values{"username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var pair map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&pair); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/api/token: %d %v %v", resp.StatusCode, pair, err)
	}
	// An OAuth token response (RFC 6749 section 5.1), never cached.
	if len(pair) != 4 || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Errorf("/api/token: %v %v", resp.Header, pair)
	}
	return pair
}

// me calls /api/me with an access token.
func me(t *testing.T, base, access string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/me", nil)
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var claims map[string]any
	json.NewDecoder(resp.Body).Decode(&claims)
	return resp.StatusCode, claims
}

func postJSON(t *testing.T, u, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, resp *http.Response) string {
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/profile": "/profile", "/devices?x=1": "/devices?x=1", "": "/", "profile": "/",
		"//evil.example": "/", "/\\evil.example": "/", "/\t/evil.example": "/", "/\n/evil.example": "/",
		"https://evil.example": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
