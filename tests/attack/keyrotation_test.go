package attack

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"testing"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/token"
)

// Attack scenario 14 (S-33): rotating keys without logging anyone out,
// and retiring a key so that what it signed dies. The app starts with
// cookie key K1 and JWT key k1. Then K2 signs and K1 only verifies, and k2
// is promoted: old cookies and tokens work, new ones carry K2's and k2's
// key IDs. Then K1 and k1 are removed: what they signed is refused, what
// K2 and k2 signed works.
func TestKeyRotation(t *testing.T) {
	a := newApp(t)
	k1, k2 := a.keys[0], keycard.NewKey()
	run.addSecret("session key", k2, 0)
	old := a.client()
	at1, _ := pairOf(t, old.mustLogin("ann", "api"))
	cookie1 := old.session()

	cfg := a.cfg.keycard
	cfg.Keys = []keycard.Key{k2, k1}
	a.build(cfg)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	run.addSecret("JWT signing key", priv.Seed(), 0)
	next, err := token.NewPrivateKey("k2", priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.jwks.AddNext(next); err != nil {
		t.Fatal(err)
	}
	if err := a.jwks.Promote("k2"); err != nil {
		t.Fatal(err)
	}
	if old.me() != "ann" || old.session() != cookie1 {
		t.Error("during the overlap, a K1 cookie stopped working (or was re-signed)")
	}
	if res := old.bearer("/api/me", at1); res.code != http.StatusOK {
		t.Errorf("during the overlap, a k1 token: %v", res)
	}
	fresh := a.client()
	at2, _ := pairOf(t, fresh.mustLogin("ben", "api"))
	cookie2 := fresh.session()
	if bytes.Equal(cookieKeyID(cookie2), cookieKeyID(cookie1)) {
		t.Error("new cookies are not signed with K2")
	}
	if h := headerOf(t, at2); h["kid"] != "k2" {
		t.Errorf("new tokens carry kid %v, want k2", h["kid"])
	}

	cfg.Keys = []keycard.Key{k2}
	a.build(cfg)
	if err := a.jwks.Remove("k1"); err != nil {
		t.Fatal(err)
	}
	if got := a.client().meWith(cookieName + "=" + cookie1); got != "" {
		t.Errorf("a K1 cookie after K1's removal reads %q", got)
	}
	if res := old.bearer("/api/me", at1); res.code != http.StatusUnauthorized {
		t.Errorf("a k1 token after k1's removal: %v", res)
	}
	if fresh.me() != "ben" || fresh.bearer("/api/me", at2).code != http.StatusOK {
		t.Error("K2 and k2 credentials stopped working")
	}
	if a.events("rejected", "bad-mac") == 0 {
		t.Error("the K1 cookie was not refused at the MAC")
	}
}
