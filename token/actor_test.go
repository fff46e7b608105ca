package token

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
)

// Tokens issued for an impersonation name the actor in an RFC 8693 "act"
// claim, which Verify returns and refreshed tokens keep; ordinary tokens
// carry no "act".
func TestImpersonationTokensCarryTheActor(t *testing.T) {
	e := newEnv(t)
	plain, _ := e.login(t, "alice")
	if _, ok := claimsOf(t, plain.AccessToken)["act"]; ok {
		t.Error("an ordinary access token has an act claim")
	}
	var p Pair
	var err error
	h := e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		if err = e.m.Login(r.Context(), s, "support"); err != nil {
			return
		}
		if err = e.m.Impersonate(r.Context(), s, "alice", time.Hour); err != nil {
			return
		}
		p, err = e.iss.Issue(r.Context(), s)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "https://example.com/login", nil))
	if err != nil {
		t.Fatal(err)
	}
	act, _ := claimsOf(t, p.AccessToken)["act"].(map[string]any)
	if act["sub"] != "support" {
		t.Fatalf("the impersonation's access token has act %v, want {sub: support}", act)
	}
	c, err := e.iss.VerifyStrict(t.Context(), p.AccessToken)
	if err != nil || c.Subject != "alice" || c.Actor != "support" {
		t.Fatalf("VerifyStrict: %+v, %v; want alice acted as by support", c, err)
	}
	next, err := e.iss.Refresh(t.Context(), p.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := e.iss.Verify(t.Context(), next.AccessToken); err != nil || c.Actor != "support" {
		t.Errorf("a refreshed token of the impersonation: actor %q, %v; want support", c.Actor, err)
	}
}
