package token

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
)

func refreshOK(t *testing.T, e *env, rt string) Pair {
	t.Helper()
	p, err := e.iss.Refresh(context.Background(), rt)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return p
}

func refreshFails(t *testing.T, e *env, rt, why string) {
	t.Helper()
	if p, err := e.iss.Refresh(context.Background(), rt); !errors.Is(err, ErrInvalidGrant) || p != (Pair{}) {
		t.Fatalf("%s: Refresh = %v, %v; want ErrInvalidGrant", why, p, err)
	}
}

func sessionOf(t *testing.T, e *env, p Pair) string {
	t.Helper()
	c, err := e.iss.Verify(context.Background(), p.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return c.SessionID
}

func alive(e *env, sid string) bool {
	_, err := e.m.OpenByHash(context.Background(), sid)
	return err == nil
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p1, _ := e.login(t, "alice")
	p2 := refreshOK(t, e, p1.RefreshToken)
	if p2.RefreshToken == p1.RefreshToken || p2.AccessToken == p1.AccessToken {
		t.Fatal("refresh returned the same tokens")
	}
	if sessionOf(t, e, p1) != sessionOf(t, e, p2) {
		t.Fatal("the new access token names another session")
	}
	p3 := refreshOK(t, e, p2.RefreshToken)
	refreshOK(t, e, p3.RefreshToken)
	if n := len(e.ev.of(EventRefreshReuse)); n != 0 {
		t.Errorf("%d reuse events during a plain rotation", n)
	}
}

// Attack scenario 6 and S-50: the victim rotates RT1 to RT2, the attacker
// replays RT1 after the grace window; both RT1 and RT2 then fail, the
// session is gone, and the event names the family without token material.
func TestRefreshReuseAfterGraceDestroysTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		p1, _ := e.login(t, "alice")
		sid := sessionOf(t, e, p1)
		p2 := refreshOK(t, e, p1.RefreshToken)
		time.Sleep(DefaultGrace + time.Second)

		refreshFails(t, e, p1.RefreshToken, "RT1 replayed after grace")
		if alive(e, sid) {
			t.Fatal("the session survived the reuse")
		}
		refreshFails(t, e, p2.RefreshToken, "RT2 after the reuse")
		if _, err := e.iss.VerifyStrict(context.Background(), p2.AccessToken); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("VerifyStrict of the latest access token: %v", err)
		}

		evs := e.ev.of(EventRefreshReuse)
		if len(evs) != 1 {
			t.Fatalf("%d reuse events, want 1", len(evs))
		}
		ev := evs[0]
		if ev.Reason != ReasonAfterGrace || ev.UserID != "alice" || !strings.HasPrefix(sid, ev.Session) || len(ev.Session) != 16 {
			t.Errorf("event %+v", ev)
		}
		if len(ev.Attrs) != 1 || ev.Attrs[0].Key != "family" || len(ev.Attrs[0].Value.String()) != 32 {
			t.Errorf("event does not name the family: %v", ev.Attrs)
		}
		checkNoTokenMaterial(t, e.ev.text(), p1, p2)
		if len(e.ev.of(event.Destroyed)) == 0 {
			t.Error("no destroyed event")
		}
	})
}

// checkNoTokenMaterial fails if text holds any 16-character piece of the
// pairs' tokens, or the refresh secrets in hex or base64.
func checkNoTokenMaterial(t *testing.T, text string, pairs ...Pair) {
	t.Helper()
	for _, p := range pairs {
		for _, tok := range []string{p.RefreshToken, p.AccessToken} {
			for i := 0; i+16 <= len(tok); i++ {
				if strings.Contains(text, tok[i:i+16]) {
					t.Fatalf("events contain token material %q", tok[i:i+16])
				}
			}
		}
		raw, _ := base64.RawURLEncoding.DecodeString(p.RefreshToken)
		secret := raw[49:81]
		for _, form := range []string{hex.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret)} {
			if strings.Contains(text, form) {
				t.Fatal("events contain a refresh secret")
			}
		}
	}
}

// A token older than the previous one is reuse even within the grace
// window.
func TestRefreshStaleTokenIsReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p1, _ := e.login(t, "alice")
	sid := sessionOf(t, e, p1)
	p2 := refreshOK(t, e, p1.RefreshToken)
	p3 := refreshOK(t, e, p2.RefreshToken)
	refreshFails(t, e, p1.RefreshToken, "RT1 after two rotations")
	if alive(e, sid) {
		t.Fatal("the session survived")
	}
	refreshFails(t, e, p3.RefreshToken, "RT3 after the reuse")
	if evs := e.ev.of(EventRefreshReuse); len(evs) != 1 || evs[0].Reason != ReasonStale {
		t.Errorf("reuse events %+v, want one with reason stale", evs)
	}
}

// Two tabs refreshing with the same token within the grace window get the
// same successor and raise no alarm; the family goes on.
func TestRefreshGraceTwoTabs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		p1, _ := e.login(t, "alice")
		a := refreshOK(t, e, p1.RefreshToken)
		time.Sleep(DefaultGrace - time.Second)
		b := refreshOK(t, e, p1.RefreshToken)
		if a.RefreshToken != b.RefreshToken {
			t.Fatal("two tabs within grace got different refresh tokens")
		}
		if a.AccessToken == b.AccessToken {
			t.Error("two tabs got the same access token (same jti)")
		}
		if n := len(e.ev.of(EventRefreshReuse)); n != 0 {
			t.Fatalf("%d reuse events within grace", n)
		}
		c := refreshOK(t, e, a.RefreshToken)
		refreshOK(t, e, c.RefreshToken)
	})
}

func TestRefreshGraceDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withIssuer(func(c *Config) { c.Grace = -1 }))
	p1, _ := e.login(t, "alice")
	refreshOK(t, e, p1.RefreshToken)
	refreshFails(t, e, p1.RefreshToken, "RT1 again with no grace")
	if len(e.ev.of(EventRefreshReuse)) != 1 {
		t.Error("no reuse event")
	}
}

// Attack scenario 7 and S-51: 50 concurrent refreshes of one token through
// the HTTP endpoint give one successor, all 200. The grace is the longest
// allowed, a minute: every request must arrive within it of the first
// rotation to be answered with the same successor, and on a loaded
// machine 50 requests may take longer than the default 10 s.
func TestRefreshRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withIssuer(func(c *Config) { c.Grace = MaxGrace }))
	p1, _ := e.login(t, "alice")
	ts := httptest.NewServer(e.iss.RefreshHandler())
	defer ts.Close()
	const n = 50
	var wg sync.WaitGroup
	codes := make([]int, n)
	tokens := make([]string, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := http.PostForm(ts.URL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {p1.RefreshToken}})
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			codes[i] = res.StatusCode
			var body tokenResponse
			json.NewDecoder(res.Body).Decode(&body)
			tokens[i] = body.RefreshToken
		}()
	}
	close(start)
	wg.Wait()
	distinct := map[string]int{}
	for i := range n {
		if codes[i] != 200 {
			t.Errorf("request %d: status %d", i, codes[i])
		}
		distinct[tokens[i]]++
	}
	if len(distinct) != 1 {
		t.Fatalf("%d distinct successors, want 1", len(distinct))
	}
	if n := len(e.ev.of(EventRefreshReuse)); n != 0 {
		t.Fatalf("%d reuse events", n)
	}
	for rt := range distinct {
		refreshOK(t, e, rt)
	}
}

// The same race with two Managers over one store (two instances), where
// only the store's compare-and-set keeps the family from forking. It runs
// in a synctest bubble, so that every refresh comes within the grace of
// the first however slow the machine.
func TestRefreshRaceAcrossInstances(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testRefreshRaceAcrossInstances)
}

func testRefreshRaceAcrossInstances(t *testing.T) {
	e := newEnv(t)
	other := *e
	var err error
	if other.m, err = keycard.New(e.mcfg); err != nil {
		t.Fatal(err)
	}
	if other.iss, err = New(other.m, e.issCfg); err != nil {
		t.Fatal(err)
	}
	p1, _ := e.login(t, "alice")
	const n = 20
	var wg sync.WaitGroup
	results := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			iss := e.iss
			if i%2 == 1 {
				iss = other.iss
			}
			p, err := iss.Refresh(context.Background(), p1.RefreshToken)
			results[i], errs[i] = p.RefreshToken, err
		}()
	}
	wg.Wait()
	distinct := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("refresh %d: %v", i, errs[i])
		}
		distinct[results[i]] = true
	}
	if len(distinct) != 1 {
		t.Fatalf("%d distinct successors, want 1", len(distinct))
	}
}

func TestRefreshAfterRevocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("RevokeUser", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		a1, _ := e.login(t, "alice")
		a2, _ := e.login(t, "alice")
		b, _ := e.login(t, "bob")
		if n, err := e.m.RevokeUser(ctx, "alice"); err != nil || n != 2 {
			t.Fatalf("RevokeUser = %d, %v", n, err)
		}
		refreshFails(t, e, a1.RefreshToken, "alice's first session")
		refreshFails(t, e, a2.RefreshToken, "alice's second session")
		if _, err := e.iss.VerifyStrict(ctx, a1.AccessToken); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("VerifyStrict of alice's token: %v", err)
		}
		refreshOK(t, e, b.RefreshToken)
	})
	t.Run("Revoke by sid", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		p, _ := e.login(t, "alice")
		if err := e.m.Revoke(ctx, sessionOf(t, e, p)); err != nil {
			t.Fatal(err)
		}
		refreshFails(t, e, p.RefreshToken, "after Revoke")
	})
	t.Run("Issuer.Revoke", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		p, _ := e.login(t, "alice")
		s, err := e.m.OpenByHash(ctx, sessionOf(t, e, p))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.iss.Revoke(ctx, s); err != nil {
			t.Fatal(err)
		}
		refreshFails(t, e, p.RefreshToken, "after Issuer.Revoke")
		if _, err := e.iss.VerifyStrict(ctx, p.AccessToken); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("VerifyStrict: %v", err)
		}
	})
	// In a synctest bubble, so that bob's login comes before the cutoff a
	// second ahead however slow the machine.
	t.Run("RevokedBefore", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			var cutoff time.Time
			var mu sync.Mutex
			e := newEnv(t, withManager(func(c *keycard.Config) {
				c.RevokedBefore = func(context.Context, string) (time.Time, error) {
					mu.Lock()
					defer mu.Unlock()
					return cutoff, nil
				}
			}))
			p, _ := e.login(t, "alice")
			refreshOK(t, e, p.RefreshToken)
			mu.Lock()
			cutoff = time.Now().Add(time.Second)
			mu.Unlock()
			p2, _ := e.login(t, "bob") // logged in before the cutoff too
			refreshFails(t, e, p2.RefreshToken, "after the user's not-before")
		})
	})
}

// Refresh families expire by inactivity and by age (S-52), on a fake clock.
func TestRefreshFamilyExpiry(t *testing.T) {
	cfg := func(c *Config) { c.RefreshIdle, c.RefreshLifetime = time.Hour, 3*time.Hour }
	t.Run("idle", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newEnv(t, withIssuer(cfg))
			p, _ := e.login(t, "alice")
			time.Sleep(59 * time.Minute)
			p = refreshOK(t, e, p.RefreshToken)
			time.Sleep(time.Hour + time.Second)
			refreshFails(t, e, p.RefreshToken, "idle for an hour")
			if len(e.ev.of(EventRefreshReuse)) != 0 {
				t.Error("expiry counted as reuse")
			}
		})
	})
	t.Run("lifetime", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newEnv(t, withIssuer(cfg))
			p, _ := e.login(t, "alice")
			for range 6 {
				time.Sleep(30 * time.Minute)
				p = refreshOK(t, e, p.RefreshToken)
			}
			time.Sleep(time.Second)
			refreshFails(t, e, p.RefreshToken, "past the lifetime")
		})
	})
	t.Run("session deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newEnv(t, withManager(func(c *keycard.Config) {
				c.RememberMe = keycard.Timeouts{Idle: time.Hour, Absolute: 2 * time.Hour}
			}))
			p, _ := e.login(t, "alice")
			for range 3 {
				time.Sleep(35 * time.Minute)
				p = refreshOK(t, e, p.RefreshToken)
			}
			// 117 minutes in, the access token is cut to the session's
			// absolute deadline.
			time.Sleep(12 * time.Minute)
			p = refreshOK(t, e, p.RefreshToken)
			if p.ExpiresIn != 3*time.Minute {
				t.Errorf("ExpiresIn %v, want 3m (the session's deadline)", p.ExpiresIn)
			}
			time.Sleep(3*time.Minute + time.Second)
			refreshFails(t, e, p.RefreshToken, "past the session's deadline")
		})
	})
}

// A second Issue on the same session retires the first family quietly.
func TestIssueReplacesTheFamily(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p1, _ := e.login(t, "alice")
	sid := sessionOf(t, e, p1)
	s, err := e.m.OpenByHash(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := e.iss.Issue(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	refreshFails(t, e, p1.RefreshToken, "the first family")
	if !alive(e, sid) || len(e.ev.of(EventRefreshReuse)) != 0 {
		t.Fatal("a retired family counted as reuse")
	}
	refreshOK(t, e, p2.RefreshToken)
}

func TestIssueNeedsALoggedInStoredSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, prep := range map[string]func(*keycard.Session, *http.Request) error{
		"anonymous, unstored": func(*keycard.Session, *http.Request) error { return nil },
		"anonymous, stored": func(s *keycard.Session, r *http.Request) error {
			_, err := keycard.Update(r.Context(), s, "n", func(n int) int { return n + 1 })
			return err
		},
	} {
		var err error
		h := e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := keycard.FromContext(r.Context())
			if err = prep(s, r); err != nil {
				return
			}
			_, err = e.iss.Issue(r.Context(), s)
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "https://example.com/", nil))
		if err == nil {
			t.Errorf("%s: Issue succeeded", name)
		}
	}
	if _, err := e.iss.Issue(context.Background(), nil); err == nil {
		t.Error("Issue(nil) succeeded")
	}
}

// Forged and malformed refresh tokens are refused before any store call
// (the tag), without counting as reuse.
func TestForgedRefreshTokensCostNoStoreCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	raw, _ := base64.RawURLEncoding.DecodeString(p.RefreshToken)
	mutate := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x80
		return base64.RawURLEncoding.EncodeToString(b)
	}
	random := make([]byte, refreshRawLen)
	rand.Read(random)
	random[0] = refreshVersion
	forged := bytes.Clone(raw)
	copy(forged[49:81], random[49:81]) // a made-up secret for the real session
	cases := map[string]string{
		"empty":                     "",
		"random":                    base64.RawURLEncoding.EncodeToString(random),
		"made-up secret, real sid":  base64.RawURLEncoding.EncodeToString(forged),
		"flipped version":           mutate(0),
		"flipped sid":               mutate(5),
		"flipped family":            mutate(40),
		"flipped secret":            mutate(60),
		"flipped tag":               mutate(90),
		"truncated":                 p.RefreshToken[:len(p.RefreshToken)-1],
		"extended":                  p.RefreshToken + "A",
		"padded":                    p.RefreshToken + "==",
		"standard base64":           strings.NewReplacer("-", "+", "_", "/").Replace(p.RefreshToken) + "+",
		"access token":              p.AccessToken,
		"non-canonical last symbol": p.RefreshToken[:len(p.RefreshToken)-1] + string(p.RefreshToken[len(p.RefreshToken)-1]+1),
		"1 MB":                      strings.Repeat("A", 1<<20),
	}
	before := e.st.loads.Load()
	for name, rt := range cases {
		if rt == p.RefreshToken {
			continue
		}
		refreshFails(t, e, rt, name)
	}
	if n := e.st.loads.Load() - before; n != 0 {
		t.Errorf("forged tokens caused %d store loads, want 0", n)
	}
	if len(e.ev.of(EventRefreshReuse)) != 0 {
		t.Error("a forged token counted as reuse")
	}
	refreshOK(t, e, p.RefreshToken)
}

// S-27: the store holds only hashes of refresh secrets.
func TestStoreHoldsNoRefreshSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p1, _ := e.login(t, "alice")
	p2 := refreshOK(t, e, p1.RefreshToken)
	rec, err := e.st.Store.Load(context.Background(), sessionOf(t, e, p2))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Pair{p1, p2} {
		raw, _ := base64.RawURLEncoding.DecodeString(p.RefreshToken)
		secret := raw[49:81]
		for _, needle := range [][]byte{secret, []byte(hex.EncodeToString(secret)), []byte(base64.RawURLEncoding.EncodeToString(secret)), []byte(p.RefreshToken)} {
			if bytes.Contains(rec.Data, needle) {
				t.Fatal("the stored session contains a refresh secret")
			}
		}
	}
}

func TestRefreshStoreFailureIsNotInvalidGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	e.st.down.Store(true)
	_, err := e.iss.Refresh(context.Background(), p.RefreshToken)
	if err == nil || errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("Refresh with the store down: %v, want a store error", err)
	}
	ts := httptest.NewServer(e.iss.RefreshHandler())
	defer ts.Close()
	res, err := http.PostForm(ts.URL, url.Values{"refresh_token": {p.RefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", res.StatusCode)
	}
	e.st.down.Store(false)
	refreshOK(t, e, p.RefreshToken) // the client kept its token
}

func TestRefreshHandler(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	ts := httptest.NewServer(e.iss.RefreshHandler())
	defer ts.Close()
	do := func(method, target, ctype, body string) (int, string, http.Header) {
		req, _ := http.NewRequest(method, ts.URL+target, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b)), res.Header
	}
	form := "application/x-www-form-urlencoded"

	code, body, h := do("POST", "", form, "grant_type=refresh_token&refresh_token="+p.RefreshToken)
	var tr tokenResponse
	if code != 200 || json.Unmarshal([]byte(body), &tr) != nil || tr.TokenType != "Bearer" || tr.ExpiresIn != 600 || tr.RefreshToken == "" || tr.AccessToken == "" {
		t.Fatalf("form refresh: %d %s", code, body)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	code, body, _ = do("POST", "", "application/json", `{"refresh_token":"`+tr.RefreshToken+`"}`)
	if code != 200 {
		t.Fatalf("JSON refresh: %d %s", code, body)
	}
	json.Unmarshal([]byte(body), &tr)

	for _, tc := range []struct {
		name, method, target, ctype, body string
		code                              int
		want                              string
	}{
		{"invalid token", "POST", "", form, "refresh_token=nope", 400, `{"error":"invalid_grant"}`},
		{"access token", "POST", "", form, "refresh_token=" + p.AccessToken, 400, `{"error":"invalid_grant"}`},
		{"token in the query", "POST", "?refresh_token=" + tr.RefreshToken, form, "", 400, `{"error":"invalid_request"}`},
		{"no token", "POST", "", form, "grant_type=refresh_token", 400, `{"error":"invalid_request"}`},
		{"two tokens", "POST", "", form, "refresh_token=a&refresh_token=b", 400, `{"error":"invalid_request"}`},
		{"other grant", "POST", "", form, "grant_type=password&refresh_token=" + tr.RefreshToken, 400, `{"error":"unsupported_grant_type"}`},
		{"text/plain", "POST", "", "text/plain", "refresh_token=" + tr.RefreshToken, 400, `{"error":"invalid_request"}`},
		{"GET", "GET", "", "", "", 405, `{"error":"invalid_request"}`},
		{"huge body", "POST", "", form, "refresh_token=" + strings.Repeat("a", 10000), 400, `{"error":"invalid_request"}`},
	} {
		code, body, _ := do(tc.method, tc.target, tc.ctype, tc.body)
		if code != tc.code || body != tc.want {
			t.Errorf("%s: %d %s, want %d %s", tc.name, code, body, tc.code, tc.want)
		}
	}
	// None of the refused requests used up the latest token.
	refreshOK(t, e, tr.RefreshToken)
}

func TestPairFormatsRedacted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	var buf bytes.Buffer
	for _, s := range []string{p.String(), p.GoString()} {
		buf.WriteString(s)
	}
	if strings.Contains(buf.String(), p.AccessToken[:20]) || strings.Contains(buf.String(), p.RefreshToken[:20]) {
		t.Fatalf("Pair prints its tokens: %s", buf.String())
	}
}
