package attack

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
)

// Attack scenario 2 (S-22, S-52): after logout, every credential
// captured before it is dead: the session cookie, the access token under
// strict verification, and the refresh token. (An access token under
// default verification lives until it expires, at most AccessTTL: the
// documented price of stateless verification.)
func TestReplayAfterLogout(t *testing.T) {
	a := newApp(t)
	victim := a.client()
	at, rt := pairOf(t, victim.mustLogin("victim", "api"))
	cookie := victim.session()
	if victim.bearer("/api/me", at).code != http.StatusOK {
		t.Fatal("control: the access token does not work")
	}
	if res := victim.action("/logout", nil); res.code != http.StatusOK {
		t.Fatalf("logout: %v", res)
	}
	thief := a.client()
	if got := thief.meWith(cookieName + "=" + cookie); got != "" {
		t.Errorf("the cookie replayed after logout reads %q", got)
	}
	if res := thief.bearer("/api/me", at); res.code != http.StatusUnauthorized || strings.TrimSpace(res.body) != unauthorized {
		t.Errorf("the access token under strict verification after logout: %v", res)
	}
	if res := thief.bearer("/api/lax", at); res.code != http.StatusOK {
		t.Errorf("default verification, documented to trust a token until it expires: %v", res)
	}
	if res := thief.refresh(rt); res.code != http.StatusBadRequest || strings.TrimSpace(res.body) != `{"error":"invalid_grant"}` {
		t.Errorf("the refresh token after logout: %v", res)
	}
	if a.stored(cookie) {
		t.Error("the session record survived logout")
	}
}

// Replay after an explicit renewal (S-15, S-16): Manager.Renew moves the
// session to a new ID and kills the old one at once.
func TestReplayAfterRenew(t *testing.T) {
	a := newApp(t)
	victim := a.client()
	victim.mustLogin("victim")
	old := victim.session()
	if res := victim.action("/renew", nil); res.code != http.StatusOK {
		t.Fatalf("renew: %v", res)
	}
	if victim.session() == old {
		t.Fatal("renew kept the ID")
	}
	if got := a.client().meWith(cookieName + "=" + old); got != "" {
		t.Errorf("the cookie from before the renewal reads %q", got)
	}
	if victim.me() != "victim" {
		t.Error("the renewed session lost its user")
	}
}

// Replay after periodic rotation (Config.RotateEvery, the cheat sheet's
// renewal timeout): once the session has rotated, its old ID serves
// requests in flight for the grace period (and hands them the new ID),
// and after it is dead, while the new ID lives on. Real time, about 1 s.
//
// Each step waits at least as long as it must (a rotation is due after
// RotateEvery, a retired ID is dead after the grace), so a slow machine
// only makes the waits longer. The step that must come soon enough, the
// old ID used within its grace, gets a grace of a minute, and RotateEvery
// is then an hour, so that the request in flight is not due to rotate
// again however long the machine takes; the app is rebuilt on the same
// store and keys between the steps, as a restart with a new configuration
// would.
func TestReplayAfterRotation(t *testing.T) {
	const every, grace = 300 * time.Millisecond, 300 * time.Millisecond
	a := newApp(t, func(c *appConfig) {
		c.keycard.RotateEvery, c.keycard.RotationGrace = every, time.Minute
	})
	configure := func(every, grace time.Duration) {
		cfg := a.cfg.keycard
		cfg.RotateEvery, cfg.RotationGrace = every, grace
		a.build(cfg)
	}
	victim := a.client()
	victim.mustLogin("victim")
	first := victim.session()
	time.Sleep(every + 50*time.Millisecond)
	if victim.me() != "victim" {
		t.Fatal("the rotating request lost the session")
	}
	second := victim.session()
	if second == first {
		t.Fatal("no rotation after RotateEvery")
	}
	configure(time.Hour, time.Minute)
	inFlight := a.client()
	inFlight.setSession(first)
	if got := inFlight.me(); got != "victim" {
		t.Errorf("the old ID within the grace period reads %q", got)
	}
	if inFlight.session() != second {
		t.Error("the request in flight was not handed the new ID")
	}

	// Now the same with a short grace, waited out: the session rotates
	// from second to third, and second dies after the grace.
	configure(every, grace)
	time.Sleep(every + 50*time.Millisecond)
	if victim.me() != "victim" {
		t.Fatal("the second rotating request lost the session")
	}
	third := victim.session()
	if third == second {
		t.Fatal("no second rotation after RotateEvery")
	}
	time.Sleep(grace + 50*time.Millisecond)
	if got := a.client().meWith(cookieName + "=" + second); got != "" {
		t.Errorf("the old ID after the grace period reads %q", got)
	}
	if victim.meWith(cookieName+"="+third) != "victim" {
		t.Error("the rotated ID died")
	}
	if a.events("renewed", event.ReasonRotate) < 2 {
		t.Error("no rotate event for each rotation")
	}
}

// Attack scenario 3 (S-18, S-19, S-21): the idle and absolute timeouts
// are enforced by the server, in real time: a session idle past its idle
// timeout is dead (and gone from the store), and one kept busy dies at
// its absolute deadline all the same. Real time, about 2.5 s.
func TestExpiryIdleAndAbsolute(t *testing.T) {
	const idle, absolute = 600 * time.Millisecond, 1800 * time.Millisecond
	a := newApp(t, func(c *appConfig) {
		c.keycard.Timeouts = keycard.Timeouts{Idle: idle, Absolute: absolute}
	})
	t.Run("idle", func(t *testing.T) {
		c := a.client()
		c.mustLogin("idler")
		v := c.session()
		time.Sleep(idle + 100*time.Millisecond)
		if got := c.meWith(cookieName + "=" + v); got != "" {
			t.Errorf("past the idle timeout: %q", got)
		}
		if a.stored(v) {
			t.Error("the idle-expired record is still in the store")
		}
	})
	t.Run("absolute", func(t *testing.T) {
		for attempt := 1; !keepBusy(t, a, idle, absolute); attempt++ {
			if attempt == 3 {
				t.Fatal("3 tries in a row, the machine was too slow to keep the session busy within its idle timeout")
			}
		}
	})
}

// keepBusy logs in and reads the session every idle/6 until a read begins
// after its absolute deadline, and checks every read against what the
// clocks allow, read around the login and around each request (no margin
// of time is assumed): a read that ended before the earliest absolute
// deadline, and before the idle timeout counted from the last read that
// found the session (less a tenth, for the touches the Manager skips),
// must find it; a read that began after the latest absolute deadline must
// not. The session must then be gone from the store. keepBusy reports
// false if a read came so late after the one before that the session may
// have died of idleness, and found it dead: the machine was too slow for
// the run to prove anything, and the caller tries again.
func keepBusy(t *testing.T, a *app, idle, absolute time.Duration) bool {
	t.Helper()
	c := a.client()
	before := time.Now()
	c.mustLogin("busy")
	after := time.Now()
	v := c.session()
	earliest, latest := before.Add(absolute), after.Add(absolute)
	alive := before.Add(idle - idle/10) // until when idleness cannot have ended it
	for {
		time.Sleep(idle / 6)
		start := time.Now()
		got := c.meWith(cookieName + "=" + v)
		end := time.Now()
		switch {
		case start.After(latest):
			if got != "" {
				t.Fatalf("%v after login, past the absolute timeout, the session reads %q", start.Sub(after), got)
			}
			if a.stored(v) {
				t.Error("the expired record is still in the store")
			}
			return true
		case got == "busy":
			alive = start.Add(idle - idle/10)
		case got != "":
			t.Fatalf("the session reads user %q", got)
		case end.Before(earliest) && end.Before(alive):
			t.Fatalf("an active session died %v after login", end.Sub(before))
		case end.Before(earliest):
			t.Logf("the session died of idleness %v after login: the machine was too slow to keep it busy; trying again", end.Sub(before))
			return false
		}
	}
}

// Attack scenario 8 (S-55, S-57, S-58, S-59): forged cross-site requests
// change nothing. The victim is logged in; the attacker's page makes the
// browser send POSTs with the victim's cookie but without a token, with
// another session's token, as text/plain JSON, from a look-alike or null
// origin, and a cross-site login. Each gets 403, no handler runs, and no
// cookie is set. GET cannot log out (405).
func TestCrossSiteRequests(t *testing.T) {
	a := newApp(t)
	victim := a.client()
	victim.mustLogin("victim")
	victim.token() // the victim's session has a CSRF secret
	attackerToken := a.client().token()
	writes := a.writes.Load()
	cases := map[string]func() *http.Request{
		"cross-site, no token": func() *http.Request {
			return victim.newRequest("POST", "/put", strings.NewReader("blob=x"), "Sec-Fetch-Site: cross-site", "Origin: https://evil.example", "Content-Type: application/x-www-form-urlencoded")
		},
		"no Fetch Metadata, evil Origin": func() *http.Request {
			return victim.newRequest("POST", "/put", nil, "Origin: https://evil.example")
		},
		"look-alike Origin": func() *http.Request {
			return victim.newRequest("POST", "/put", nil, "Origin: "+strings.Replace(a.srv.URL, "127.0.0.1", "127.0.0.1.evil.net", 1))
		},
		"Origin null": func() *http.Request {
			return victim.newRequest("POST", "/put", nil, "Sec-Fetch-Site: cross-site", "Origin: null")
		},
		"same-site": func() *http.Request {
			return victim.newRequest("POST", "/put", nil, "Sec-Fetch-Site: same-site", "X-CSRF-Token: "+attackerToken)
		},
		"no token at all": func() *http.Request { return victim.newRequest("POST", "/put", strings.NewReader("x")) },
		"another session's token": func() *http.Request {
			return victim.newRequest("POST", "/put", nil, "X-CSRF-Token: "+attackerToken)
		},
		"JSON as text/plain": func() *http.Request {
			return victim.newRequest("POST", "/put", strings.NewReader(`{"blob":"x"}`), "Content-Type: text/plain")
		},
		"token in the query": func() *http.Request {
			return victim.newRequest("POST", "/put?csrf_token="+url.QueryEscape(attackerToken), nil)
		},
		"cross-site login": func() *http.Request {
			form := url.Values{"user": {"attacker"}, "password": {password("attacker")}}
			return victim.newRequest("POST", "/login", strings.NewReader(form.Encode()), "Sec-Fetch-Site: cross-site", "Origin: https://evil.example", "Content-Type: application/x-www-form-urlencoded")
		},
	}
	for name, mk := range cases {
		res := victim.do(mk())
		if res.code != http.StatusForbidden || res.body != "Forbidden\n" {
			t.Errorf("%s: %v, want the uniform 403", name, res)
		}
		if len(res.header.Values("Set-Cookie")) != 0 {
			t.Errorf("%s: a refused request set a cookie", name)
		}
	}
	if n := a.writes.Load() - writes; n != 0 {
		t.Errorf("%d refused requests reached a state-changing handler", n)
	}
	if res := victim.get("/logout"); res.code != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout: %v, want 405", res)
	}
	if victim.me() != "victim" {
		t.Error("the victim is no longer logged in")
	}
	// A login form posted from a fresh browser without a token: no session.
	fresh := a.client()
	res := fresh.post("/login", url.Values{"user": {"attacker"}, "password": {password("attacker")}})
	if res.code != http.StatusForbidden || fresh.session() != "" {
		t.Errorf("login CSRF against a fresh visitor: %v, cookie %q", res, fresh.session())
	}
}
