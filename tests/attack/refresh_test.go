package attack

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/keycard-go/keycard/token"
)

const invalidGrant = `{"error":"invalid_grant"}`

// Attack scenario 6 (S-49, S-50): a thief replays a refresh token the
// victim has already rotated. The token endpoint treats it as theft: the
// thief gets invalid_grant, the victim's current refresh token, its access
// tokens (under strict verification) and its session cookie all die, and
// the event names the family without token material. (Grace is off, as
// a thief would be slower than the grace window anyway.)
func TestRefreshTokenTheft(t *testing.T) {
	a := newApp(t, func(c *appConfig) { c.token.Grace = -1 })
	victim := a.client()
	at1, rt1 := pairOf(t, victim.mustLogin("victim", "api"))
	cookie := victim.session()
	res := victim.refresh(rt1)
	if res.code != http.StatusOK {
		t.Fatalf("refresh: %v", res)
	}
	at2, rt2 := pairOf(t, res)
	thief := a.client()
	if res := thief.refresh(rt1); res.code != http.StatusBadRequest || strings.TrimSpace(res.body) != invalidGrant {
		t.Errorf("the thief's replay: %v", res)
	}
	if res := victim.refresh(rt2); res.code != http.StatusBadRequest || strings.TrimSpace(res.body) != invalidGrant {
		t.Errorf("the victim's current token after the theft: %v", res)
	}
	for name, tok := range map[string]string{"first": at1, "second": at2} {
		if res := victim.bearer("/api/me", tok); res.code != http.StatusUnauthorized {
			t.Errorf("the %s access token after the theft: %v", name, res)
		}
	}
	if got := victim.meWith(cookieName + "=" + cookie); got != "" {
		t.Errorf("the session cookie after the theft reads %q", got)
	}
	if a.events(string(token.EventRefreshReuse), "") != 1 {
		t.Errorf("want one %s event", token.EventRefreshReuse)
	}
	for _, line := range strings.Split(a.logs.String(), "\n") {
		if strings.Contains(line, string(token.EventRefreshReuse)) {
			if !strings.Contains(line, `"family":"`) {
				t.Errorf("the reuse event does not name the family: %s", line)
			}
			for _, tok := range []string{rt1, rt2, rt1[40:60], rt2[40:60], at1, at2} {
				if strings.Contains(line, tok) {
					t.Errorf("the reuse event holds token material: %s", line)
				}
			}
		}
	}
}

// Attack scenario 7 (S-51): fifty clients refresh with the same token at
// once (tabs, retries, or a thief racing the victim within the grace
// window). None gets a 5xx, all get the same successor (the family does
// not fork), and that successor refreshes on. The grace is the longest
// allowed, a minute: every request must arrive within it of the first
// rotation, and 50 new TLS clients on a loaded machine may take longer
// than the default 10 s.
func TestRefreshRace(t *testing.T) {
	a := newApp(t, func(c *appConfig) { c.token.Grace = token.MaxGrace })
	c := a.client()
	_, rt := pairOf(t, c.mustLogin("racer", "api"))
	var mu sync.Mutex
	codes := map[int]int{}
	successors := map[string]bool{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			cl := a.client()
			req := cl.newRequest("POST", "/token", strings.NewReader(url.Values{"refresh_token": {rt}}.Encode()),
				"Content-Type: application/x-www-form-urlencoded")
			res, err := cl.try(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			codes[res.code]++
			if res.code == http.StatusOK {
				next, _ := res.json()["refresh_token"].(string)
				successors[next] = true
				at, _ := res.json()["access_token"].(string)
				run.addSecret("refresh_token", []byte(next), res.id)
				run.addSecret("access_token", []byte(at), res.id)
			}
		})
	}
	wg.Wait()
	if codes[http.StatusOK] != 50 || len(successors) != 1 {
		t.Fatalf("50 concurrent refreshes: statuses %v, %d distinct successors; want 50 × 200 and one successor", codes, len(successors))
	}
	for next := range successors {
		if res := c.refresh(next); res.code != http.StatusOK {
			t.Errorf("the successor does not refresh: %v", res)
		}
	}
	if a.events(string(token.EventRefreshReuse), "") != 0 {
		t.Error("the race counted as theft")
	}
}

// Attack scenario 9 (S-23, S-24, S-25): user ann is logged in on three
// browsers and an API client, ben on one of each. Ann changes her
// password and logs out everywhere else: her other cookies, her access
// token (strict) and her refresh token die, her current browser goes on
// under a new ID, and ben is untouched. An administrator's RevokeUser then
// ends her last session too. A session hash (public in the token's "sid")
// is no credential.
func TestRevokeEverywhere(t *testing.T) {
	a := newApp(t)
	var ann []*client
	for range 3 {
		c := a.client()
		c.mustLogin("ann")
		ann = append(ann, c)
	}
	annAPI := a.client()
	annAT, annRT := pairOf(t, annAPI.mustLogin("ann", "api"))
	ben := a.client()
	benAT, benRT := pairOf(t, ben.mustLogin("ben", "api"))

	before := ann[0].session()
	if res := ann[0].action("/password", nil); res.code != http.StatusOK {
		t.Fatalf("password change: %v", res)
	}
	if ann[0].session() == before || ann[0].me() != "ann" {
		t.Error("the current session did not continue under a new ID")
	}
	for i, c := range ann[1:] {
		if got := c.me(); got != "" {
			t.Errorf("ann's browser %d still reads %q", i+1, got)
		}
	}
	if annAPI.me() != "" || annAPI.bearer("/api/me", annAT).code != http.StatusUnauthorized || annAPI.refresh(annRT).code != http.StatusBadRequest {
		t.Error("ann's API credentials survived")
	}
	if ben.me() != "ben" || ben.bearer("/api/me", benAT).code != http.StatusOK || ben.refresh(benRT).code != http.StatusOK {
		t.Error("ben's credentials were touched")
	}
	if infos, _ := a.m.Sessions(context.Background(), "ann"); len(infos) != 1 {
		t.Errorf("ann has %d sessions, want 1", len(infos))
	}
	sid, _ := payloadOf(t, benAT)["sid"].(string)
	if got := ben.meWith(cookieName + "=" + sid); got != "" {
		t.Errorf("a session hash used as a cookie reads %q", got)
	}
	if n, err := a.m.RevokeUser(context.Background(), "ann"); err != nil || n != 1 {
		t.Errorf("RevokeUser: %d, %v", n, err)
	}
	if ann[0].me() != "" {
		t.Error("an administrator's RevokeUser left ann's last session")
	}
	if a.events("destroyed", "revoke") < 2 {
		t.Error("no revoke events")
	}
}
