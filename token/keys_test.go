package token

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// fetchJWKS gets the issuer's JWKS and parses it with go-jose.
func fetchJWKS(t *testing.T, iss *Issuer) (jose.JSONWebKeySet, []byte, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	iss.JWKS().ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	if rec.Code != 200 {
		t.Fatalf("JWKS: %d", rec.Code)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatalf("JWKS does not parse: %v", err)
	}
	for _, k := range set.Keys {
		if !k.Valid() || !k.IsPublic() || k.Use != "sig" || k.Algorithm == "" {
			t.Errorf("JWKS key %s: valid %v, public %v, use %q, alg %q", k.KeyID, k.Valid(), k.IsPublic(), k.Use, k.Algorithm)
		}
	}
	return set, rec.Body.Bytes(), rec.Header()
}

func kids(set jose.JSONWebKeySet) []string {
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.KeyID)
	}
	slices.Sort(ids)
	return ids
}

// Attack scenario 14: issue under K1, add K2 as next, promote K2, remove
// K1.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	k1Token, _ := e.login(t, "alice")
	if h := headerOf(t, k1Token.AccessToken); h["kid"] != "k1" {
		t.Fatalf("kid %v", h["kid"])
	}

	k2, _ := NewEd25519Key("k2")
	if err := e.keys.AddNext(k2); err != nil {
		t.Fatal(err)
	}
	set, _, _ := fetchJWKS(t, e.iss)
	if got := kids(set); !slices.Equal(got, []string{"k1", "k2"}) {
		t.Fatalf("JWKS after AddNext: %v", got)
	}
	if p, _ := e.login(t, "bob"); headerOf(t, p.AccessToken)["kid"] != "k1" {
		t.Fatal("a next key signed")
	}

	if err := e.keys.Promote("k2"); err != nil {
		t.Fatal(err)
	}
	k2Token, _ := e.login(t, "carol")
	if h := headerOf(t, k2Token.AccessToken); h["kid"] != "k2" {
		t.Fatalf("after Promote, kid %v", h["kid"])
	}
	if _, err := e.iss.Verify(ctx, k1Token.AccessToken); err != nil {
		t.Fatalf("K1 token after Promote: %v", err)
	}
	set, _, _ = fetchJWKS(t, e.iss)
	if got := kids(set); !slices.Equal(got, []string{"k1", "k2"}) {
		t.Fatalf("JWKS after Promote: %v", got)
	}
	// Refresh tokens do not depend on signing keys.
	refreshed := refreshOK(t, e, k1Token.RefreshToken)
	if headerOf(t, refreshed.AccessToken)["kid"] != "k2" {
		t.Error("refresh signed with the previous key")
	}
	if next, cur, prev := e.keys.IDs(); len(next) != 0 || cur != "k2" || !slices.Equal(prev, []string{"k1"}) {
		t.Errorf("IDs = %v %v %v", next, cur, prev)
	}

	if err := e.keys.Remove("k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iss.Verify(ctx, k1Token.AccessToken); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("K1 token after Remove: %v", err)
	}
	if _, err := e.iss.Verify(ctx, k2Token.AccessToken); err != nil {
		t.Fatalf("K2 token: %v", err)
	}
	set, _, _ = fetchJWKS(t, e.iss)
	if got := kids(set); !slices.Equal(got, []string{"k2"}) {
		t.Fatalf("JWKS after Remove: %v", got)
	}
}

// A previous key verifies until its tokens have expired, including those
// a lagging instance signs after this one promoted, then leaves the set on
// its own.
func TestPreviousKeyRetires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		ctx := context.Background()
		k2, _ := NewEd25519Key("k2")
		e.keys.AddNext(k2)
		time.Sleep(time.Minute)
		e.keys.Promote("k2")
		retired := time.Now()

		// Another instance promotes 9 minutes later and signs with the
		// old key until then.
		time.Sleep(9 * time.Minute)
		lagging := sign(t, e.key, goodClaims(time.Now()))
		time.Sleep(4*time.Minute + 59*time.Second)
		if _, err := e.iss.Verify(ctx, lagging); err != nil {
			t.Errorf("a token from a lagging instance, before its exp: %v", err)
		}
		set, _, _ := fetchJWKS(t, e.iss)
		if got := kids(set); !slices.Equal(got, []string{"k1", "k2"}) {
			t.Errorf("JWKS while the previous key is needed: %v", got)
		}

		time.Sleep(time.Until(retired.Add(2*DefaultAccessTTL + DefaultLeeway + time.Second)))
		if _, err := e.iss.Verify(ctx, lagging); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("a token of a dropped key: %v", err)
		}
		set, _, _ = fetchJWKS(t, e.iss)
		if got := kids(set); !slices.Equal(got, []string{"k2"}) {
			t.Errorf("JWKS after the previous key's horizon: %v", got)
		}
		if _, _, prev := e.keys.IDs(); len(prev) != 0 {
			t.Errorf("previous keys %v still in the set", prev)
		}
	})
}

func TestJWKSServesOnlyPublicKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	es, _ := NewES256Key("es")
	rs, _ := NewRS256Key("rs")
	hs, _ := NewHS256Key("hs")
	for _, k := range []Key{es, rs, hs} {
		if err := e.keys.AddNext(k); err != nil {
			t.Fatal(err)
		}
	}
	set, body, h := fetchJWKS(t, e.iss)
	if got := kids(set); !slices.Equal(got, []string{"es", "k1", "rs"}) {
		t.Errorf("JWKS kids %v, want es, k1, rs (never the HS256 key)", got)
	}
	if h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("headers %v", h)
	}
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	json.Unmarshal(body, &raw)
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key %v has private member %q", k["kid"], private)
			}
		}
	}
	for kid, alg := range map[string]string{"k1": "EdDSA", "es": "ES256", "rs": "RS256"} {
		if ks := set.Key(kid); len(ks) != 1 || ks[0].Algorithm != alg {
			t.Errorf("%s: %v", kid, ks)
		}
	}
	// A verifier that only has the JWKS accepts tokens signed by each key.
	for _, k := range []*PrivateKey{e.key, es, rs} {
		tok := sign(t, k, goodClaims(time.Now()))
		jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Algorithm())})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jws.Verify(set.Key(k.ID())[0]); err != nil {
			t.Errorf("%s: verifying with the published key: %v", k.ID(), err)
		}
	}
	rec := httptest.NewRecorder()
	e.iss.JWKS().ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

// Every key type signs and verifies its own tokens, and HS256 works as the
// current key of a single service.
func TestEveryAlgorithm(t *testing.T) {
	t.Parallel()
	es, _ := NewES256Key("es")
	rs, _ := NewRS256Key("rs")
	hs, _ := NewHS256Key("hs")
	for _, k := range []Key{es, rs, hs} {
		t.Run(k.Algorithm(), func(t *testing.T) {
			t.Parallel()
			ks, err := NewKeySet(k)
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, withIssuer(func(c *Config) { c.Keys = ks }))
			p, _ := e.login(t, "alice")
			if h := headerOf(t, p.AccessToken); h["alg"] != k.Algorithm() || h["kid"] != k.ID() {
				t.Errorf("header %v", h)
			}
			if _, err := e.iss.Verify(context.Background(), p.AccessToken); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// S-37 with HS256 in the set: an HS256 token naming an asymmetric key's
// kid, or an asymmetric token naming the secret key's kid, fails.
func TestNoKeyConfusionInMixedSets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hs, _ := NewHS256Key("hs")
	e.keys.AddNext(hs)
	good := goodClaims(time.Now())
	hdr := func(alg, kid string) map[string]any { return map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"} }
	pub := e.key.Public().(ed25519.PublicKey)
	priv := e.key.priv.(ed25519.PrivateKey)
	for name, tok := range map[string]string{
		"HS256 under the Ed25519 kid with the public key":  forge(hdr("HS256", "k1"), good, hs256(pub)),
		"HS256 under the secret kid with the public key":   forge(hdr("HS256", "hs"), good, hs256(pub)),
		"EdDSA under the secret kid":                       forge(hdr("EdDSA", "hs"), good, func(in []byte) []byte { return ed25519.Sign(priv, in) }),
		"HS256 under the Ed25519 kid with the real secret": forge(hdr("HS256", "k1"), good, hs256(hs.e.verify.([]byte))),
	} {
		if _, err := e.iss.Verify(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.iss.Verify(context.Background(), sign(t, hs, good)); err != nil {
		t.Errorf("a genuine HS256 token: %v", err)
	}
}

func TestKeyConstructorsRefuseWeakKeys(t *testing.T) {
	t.Parallel()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, k := range map[string]crypto.Signer{
		"P-384":    p384,
		"RSA 1024": rsa1024,
		"nil RSA":  (*rsa.PrivateKey)(nil),
		"nil":      nil,
		"short ed": ed25519.PrivateKey(make([]byte, 10)),
	} {
		if _, err := NewPrivateKey("k", k); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := NewSecretKey("k", make([]byte, 31)); err == nil {
		t.Error("a 31-byte HS256 secret accepted")
	}
	for _, kid := range []string{"", "../../dev/null", "' OR '1'='1", strings.Repeat("k", 65), "k id", "ké"} {
		if _, err := NewEd25519Key(kid); err == nil {
			t.Errorf("kid %q accepted", kid)
		}
	}
	if _, err := NewEd25519Key(strings.Repeat("k", 64)); err != nil {
		t.Errorf("64-character kid: %v", err)
	}
}

func TestKeySetOperations(t *testing.T) {
	t.Parallel()
	k1, _ := NewEd25519Key("k1")
	k1b, _ := NewEd25519Key("k1")
	k2, _ := NewEd25519Key("k2")
	ks, _ := NewKeySet(k1)
	if _, err := NewKeySet(nil); err == nil {
		t.Error("NewKeySet(nil) succeeded")
	}
	if err := ks.AddNext(k1b); err == nil {
		t.Error("duplicate kid accepted")
	}
	if err := ks.Promote("k2"); err == nil {
		t.Error("promoted a key that is not next")
	}
	if err := ks.Remove("k1"); err == nil {
		t.Error("removed the current key")
	}
	if err := ks.Remove("nope"); err == nil {
		t.Error("removed an unknown key")
	}
	ks.AddPrevious(k2)
	if _, cur, prev := ks.IDs(); cur != "k1" || !slices.Equal(prev, []string{"k2"}) {
		t.Errorf("IDs: %v %v", cur, prev)
	}
	if err := ks.Remove("k2"); err != nil {
		t.Error(err)
	}
	if ks.Current() != Key(k1) {
		t.Error("Current is not k1")
	}
}

// S-64 and STYLE 14: keys never print their material.
func TestKeysAreRedacted(t *testing.T) {
	t.Parallel()
	ed, _ := NewEd25519Key("ed")
	es, _ := NewES256Key("es")
	hs, _ := NewHS256Key("hs")
	secrets := map[string][]byte{
		"ed": ed.priv.(ed25519.PrivateKey).Seed(),
		"es": es.priv.(*ecdsa.PrivateKey).D.Bytes(),
		"hs": hs.e.verify.([]byte),
	}
	var out bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&out, nil))
	for _, k := range []any{ed, es, hs, *ed, *hs} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			fmt.Fprintf(&out, verb+"\n", k)
		}
		logger.Info("key", "k", k)
	}
	text := out.String()
	for name, s := range secrets {
		for _, form := range []string{hex.EncodeToString(s), base64.StdEncoding.EncodeToString(s), base64.RawURLEncoding.EncodeToString(s), new(big.Int).SetBytes(s).String()} {
			if strings.Contains(text, form) {
				t.Errorf("%s key material printed:\n%s", name, text)
			}
		}
	}
	if !strings.Contains(text, "REDACTED") || !strings.Contains(text, `"kid":"ed"`) {
		t.Errorf("unexpected output:\n%s", text)
	}
}
