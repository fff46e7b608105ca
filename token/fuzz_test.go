package token

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
)

// FuzzVerify feeds arbitrary access tokens to Verify: it must not panic,
// must answer quickly, and nothing but the genuine token may verify (the
// fuzzer mutating a valid token never yields another valid one).
func FuzzVerify(f *testing.F) {
	e := newEnv(f, withManager(func(c *keycard.Config) { c.OnEvent = func(event.Event) {} }))
	p, _ := e.login(f, "alice")
	parts := strings.Split(p.AccessToken, ".")
	for _, seed := range []string{
		p.AccessToken, p.RefreshToken, "", ".", "..", "...", "a.b.c",
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".." + parts[2],
		"eyJhbGciOiJub25lIn0." + parts[1] + ".",
		strings.Repeat(".", 9000),
		parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[2],
	} {
		f.Add(seed)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string) {
		start := time.Now()
		c, err := e.iss.Verify(ctx, tok)
		// It takes microseconds. A call the scheduler delayed on a loaded
		// machine is timed again: a slow input is slow every time.
		if d := time.Since(start); d > time.Second {
			if d = fastest(3, func() { e.iss.Verify(ctx, tok) }); d > time.Second {
				t.Errorf("Verify took %v at the fastest of 3", d)
			}
		}
		if err == nil && tok != p.AccessToken {
			t.Fatalf("a mutated token verified: %q -> %+v", tok, c)
		}
		if err != nil && c != nil {
			t.Fatal("claims returned with an error")
		}
	})
}

// FuzzRefreshToken feeds arbitrary refresh tokens to the parser: it must
// not panic, and nothing but the genuine token may parse.
func FuzzRefreshToken(f *testing.F) {
	e := newEnv(f, withManager(func(c *keycard.Config) { c.OnEvent = func(event.Event) {} }))
	p, _ := e.login(f, "alice")
	for _, seed := range []string{
		p.RefreshToken, p.AccessToken, "", strings.Repeat("A", refreshLen), strings.Repeat("_", refreshLen),
		p.RefreshToken[:refreshLen-1] + "B", "A" + p.RefreshToken[1:],
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		rt, err := e.iss.parseRefresh(tok)
		if err == nil && tok != p.RefreshToken {
			t.Fatalf("a mutated refresh token parsed: %q -> %x", tok, rt.hash)
		}
		if err == nil {
			return
		}
		// Refused tokens are refused by Refresh too, without a store call.
		before := e.st.loads.Load()
		if _, err := e.iss.Refresh(context.Background(), tok); err == nil {
			t.Fatal("Refresh accepted an unparsable token")
		}
		if e.st.loads.Load() != before {
			t.Fatal("an unparsable token reached the store")
		}
	})
}

// FuzzReadRefreshRequest feeds arbitrary bodies to ReadRefreshRequest: it
// must not panic, must refuse with an *OAuthError, and must accept only a
// body that encoding/json or net/url reads the same way, with one
// refresh_token and no other grant type.
func FuzzReadRefreshRequest(f *testing.F) {
	const form, js = "application/x-www-form-urlencoded", "application/json"
	for _, seed := range []struct{ ctype, body string }{
		{form, "grant_type=refresh_token&refresh_token=abc"},
		{form, "refresh_token=abc&refresh_token=abc"},
		{form, "grant_type=password&refresh_token=abc"},
		{form, "refresh_token=%zz"},
		{form + "; charset=utf-8", "refresh_token=a+b%20c"},
		{js, `{"grant_type":"refresh_token","refresh_token":"abc"}`},
		{js, `{"refresh_token":"abc","refresh_token":"abc"}`},
		{js, `{"refresh\u005ftoken":"a\"b","grant_type":null,"x":[1,{"y":{}}]}`},
		{js, `{"refresh_token":"abc"} {}`},
		{js, `{"refresh_token":1}`},
		{js, `[`},
		{"text/plain", "refresh_token=abc"},
	} {
		f.Add(seed.ctype, seed.body)
	}
	f.Fuzz(func(t *testing.T, ctype, body string) {
		req := httptest.NewRequest("POST", "/token", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		tok, err := ReadRefreshRequest(httptest.NewRecorder(), req)
		if err != nil {
			var oe *OAuthError
			if !errors.As(err, &oe) || (oe.Code != "invalid_request" && oe.Code != "unsupported_grant_type") || tok != "" {
				t.Fatalf("refused with %q, %v", tok, err)
			}
			return
		}
		if tok == "" || len(body) > maxRefreshBody {
			t.Fatalf("accepted %q from a body of %d bytes", tok, len(body))
		}
		mt, _, _ := mime.ParseMediaType(ctype)
		switch mt {
		case form:
			q, err := url.ParseQuery(body)
			if err != nil || len(q["refresh_token"]) != 1 || q["refresh_token"][0] != tok {
				t.Fatalf("accepted form %q as %q; net/url: %v %v", body, tok, q, err)
			}
			if g := q.Get("grant_type"); g != "" && g != "refresh_token" {
				t.Fatalf("accepted grant_type %q", g)
			}
		case js:
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil || m["refresh_token"] != tok {
				t.Fatalf("accepted JSON %q as %q; encoding/json: %v %v", body, tok, m, err)
			}
			if g, ok := m["grant_type"]; ok && g != nil && g != "" && g != "refresh_token" {
				t.Fatalf("accepted grant_type %v", g)
			}
		default:
			t.Fatalf("accepted content type %q", ctype)
		}
	})
}
