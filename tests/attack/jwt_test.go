package attack

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// payloadOf decodes a JWT's claims without verifying them.
func payloadOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jwsSign signs claims with key under a protected header of alg, kid
// and typ, as go-jose does for the Issuer; embed adds the public key as
// a "jwk" header, extra adds other header parameters.
func jwsSign(t *testing.T, key ed25519.PrivateKey, kid, typ string, claims any, embed bool, extra map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: embed}).WithType(jose.ContentType(typ))
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	for k, v := range extra {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64json(v any) string {
	if s, ok := v.(string); ok {
		return base64.RawURLEncoding.EncodeToString([]byte(s))
	}
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Attack scenario 5 (S-36 to S-44), over HTTP against
// token.Middleware(true): the attacker reads the public key from the
// JWKS endpoint and tries alg "none", HS256 keyed with the public key in
// every form, embedded and remote keys, unknown and hostile key IDs,
// tokens signed with the real key (the operator's, to show the claim
// checks) that are expired, not yet valid, for another audience or
// issuer or of the wrong type, other credentials in its place, and
// oversized tokens. Every one gets the same 401; a megabyte of dots is
// refused by the server's header limit before any verification. Two
// controls pass: the genuine token, and one the test signs with the real
// key and the genuine claims.
func TestJWTForgeryBattery(t *testing.T) {
	a := newApp(t)
	c := a.client()
	res := c.mustLogin("victim", "api")
	at, rt := pairOf(t, res)
	good := claimMap(payloadOf(t, at))
	with := good.set
	now := time.Now().Unix()

	jwks := c.get("/.well-known/jwks.json")
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(jwks.body), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS: %v %v", err, jwks)
	}
	pub, ok := set.Keys[0].Key.(ed25519.PublicKey)
	if !ok {
		t.Fatalf("the JWKS key is %T", set.Keys[0].Key)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	jwkJSON, _ := json.Marshal(set.Keys[0])
	publicForms := map[string][]byte{
		"raw": pub, "DER": der, "JWK": jwkJSON,
		"PEM": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
	}
	_, attackerKey, _ := ed25519.GenerateKey(rand.Reader)
	var remoteHits atomic.Int64
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remoteHits.Add(1)
		io.WriteString(w, `{"keys":[]}`)
	}))
	defer remote.Close()

	parts := strings.Split(at, ".")
	hs := func(alg string, secret []byte) string {
		input := b64json(map[string]string{"alg": alg, "kid": "k1", "typ": "at+jwt"}) + "." + parts[1]
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	real := func(kid, typ string, claims any) string { return jwsSign(t, a.jwtKey, kid, typ, claims, false, nil) }

	cases := map[string]string{
		"stripped signature":         parts[0] + "." + parts[1] + ".",
		"signature of another token": parts[0] + "." + b64json(with("sub", "admin")) + "." + parts[2],
		"expired (real key)":         real("k1", "at+jwt", with("exp", now-3600).set("iat", now-4000)),
		"not yet valid (real key)":   real("k1", "at+jwt", with("nbf", now+600)),
		"issued in the future":       real("k1", "at+jwt", with("iat", now+600).set("exp", now+900)),
		"missing exp (real key)":     real("k1", "at+jwt", with("exp", nil)),
		"wrong aud (real key)":       real("k1", "at+jwt", with("aud", "https://other.attack.test")),
		`aud ["other"] (real key)`:   real("k1", "at+jwt", with("aud", []string{"https://other.attack.test"})),
		"aud missing (real key)":     real("k1", "at+jwt", with("aud", nil)),
		"wrong iss (real key)":       real("k1", "at+jwt", with("iss", "https://evil.example")),
		"another user (real key)":    real("k1", "at+jwt", with("sub", "admin")),
		"typ JWT, an ID token":       real("k1", "JWT", with("nonce", "n")),
		"unknown kid (real key)":     real("k9", "at+jwt", good),
		"kid path traversal":         real("../../dev/null", "at+jwt", good),
		"kid SQL":                    real("' OR '1'='1", "at+jwt", good),
		"10 KB kid":                  real(strings.Repeat("k", 10<<10), "at+jwt", good),
		"embedded jwk, attacker key": jwsSign(t, attackerKey, "k1", "at+jwt", good, true, nil),
		"jku to the attacker":        jwsSign(t, attackerKey, "k1", "at+jwt", good, false, map[string]any{"jku": remote.URL}),
		"x5u to the attacker":        jwsSign(t, attackerKey, "k1", "at+jwt", good, false, map[string]any{"x5u": remote.URL}),
		"attacker key, real kid":     jwsSign(t, attackerKey, "k1", "at+jwt", good, false, nil),
		"zip DEF":                    jwsSign(t, a.jwtKey, "k1", "at+jwt", good, false, map[string]any{"zip": "DEF"}),
		"the refresh token":          rt,
		"the session cookie":         c.session(),
		"a CSRF token":               c.token(),
		"8 KiB + 1":                  parts[0] + "." + parts[1] + "." + strings.Repeat("A", 8<<10),
		"60 KB of dots":              strings.Repeat(".", 60<<10),
		"JWE, five parts":            "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d",
	}
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		cases["alg "+alg] = b64json(map[string]string{"alg": alg, "kid": "k1", "typ": "at+jwt"}) + "." + parts[1] + "."
		cases["alg "+alg+", no kid"] = b64json(map[string]string{"alg": alg, "typ": "at+jwt"}) + "." + parts[1] + "."
	}
	for form, secret := range publicForms {
		cases["HS256 keyed with the public key, "+form] = hs("HS256", secret)
	}
	for name, tok := range cases {
		res := c.bearer("/api/me", tok)
		if res.code != http.StatusUnauthorized || strings.TrimSpace(res.body) != unauthorized ||
			res.header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
			t.Errorf("%s: %v %q, want the uniform 401", name, res, res.header.Get("WWW-Authenticate"))
		}
	}
	if n := remoteHits.Load(); n != 0 {
		t.Errorf("the attacker's key server got %d requests", n)
	}

	// A megabyte of dots: the server's 64 KiB header limit refuses it
	// before the middleware runs (or drops the connection while the client
	// is still sending it).
	req := c.newRequest("GET", "/api/me", nil, "Authorization: Bearer "+strings.Repeat(".", 1<<20))
	if res, err := c.try(req); err == nil && res.code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("1 MB of dots: %v, want 431", res)
	}

	for name, tok := range map[string]string{"the genuine token": at, "signed by the test with the real key": real("k1", "at+jwt", good)} {
		if res := c.bearer("/api/me", tok); res.code != http.StatusOK {
			t.Errorf("control, %s: %v", name, res)
		}
	}
}

// claimMap is a JWT payload.
type claimMap map[string]any

// set returns a copy of m with k set to v, or deleted for nil.
func (m claimMap) set(k string, v any) claimMap {
	out := maps.Clone(m)
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// headerOf decodes a JWT's protected header.
func headerOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
