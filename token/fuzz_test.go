package token

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
)

// FuzzVerify feeds arbitrary access tokens to Verify: it must not panic,
// must answer quickly, and nothing but the genuine token may verify (the
// fuzzer mutating a valid token never yields another valid one).
func FuzzVerify(f *testing.F) {
	e := newEnv(f, withManager(func(c *keycard.Config) { c.OnEvent = func(keycard.Event) {} }))
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
		if d := time.Since(start); d > time.Second {
			t.Errorf("Verify took %v", d)
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
	e := newEnv(f, withManager(func(c *keycard.Config) { c.OnEvent = func(keycard.Event) {} }))
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
