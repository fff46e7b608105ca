package token

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/internal/storekit"
)

func TestIssuedAccessTokenVerifies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	if p.TokenType != "Bearer" || p.ExpiresIn != DefaultAccessTTL || p.RefreshToken == "" {
		t.Fatalf("pair = %v, want Bearer, %v and a refresh token", p, DefaultAccessTTL)
	}
	c, err := e.iss.Verify(context.Background(), p.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "alice" || !storekit.ValidHash(c.SessionID) || c.Issuer != testIssuer ||
		!slices.Equal(c.Audience, []string{testAudience}) || len(c.ID) != 22 {
		t.Fatalf("claims = %+v", c)
	}
	if got := c.Expiry.Sub(c.IssuedAt); got != DefaultAccessTTL {
		t.Errorf("exp - iat = %v, want %v", got, DefaultAccessTTL)
	}
	if !c.NotBefore.Equal(c.IssuedAt) {
		t.Errorf("nbf %v != iat %v", c.NotBefore, c.IssuedAt)
	}
	if _, err := e.iss.VerifyStrict(context.Background(), p.AccessToken); err != nil {
		t.Fatalf("VerifyStrict: %v", err)
	}
}

// S-47: claims are exactly the allowlist; S-42: typ at+jwt; the header
// names the key.
func TestAccessTokenCarriesOnlyAllowedClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	claims := claimsOf(t, p.AccessToken)
	want := []string{"aud", "exp", "iat", "iss", "jti", "nbf", "sid", "sub"}
	if got := slices.Sorted(maps.Keys(claims)); !slices.Equal(got, want) {
		t.Errorf("claims %v, want exactly %v", got, want)
	}
	h := headerOf(t, p.AccessToken)
	if len(h) != 3 || h["alg"] != "EdDSA" || h["kid"] != "k1" || h["typ"] != "at+jwt" {
		t.Errorf("header %v, want alg EdDSA, kid k1, typ at+jwt only", h)
	}
	// Two tokens of one session differ in jti.
	c1, _ := e.iss.Verify(context.Background(), p.AccessToken)
	p2, _ := e.iss.Refresh(context.Background(), p.RefreshToken)
	c2, _ := e.iss.Verify(context.Background(), p2.AccessToken)
	if c1.ID == c2.ID || c1.SessionID != c2.SessionID {
		t.Errorf("jti %q and %q, sid %q and %q: want distinct jti, same sid", c1.ID, c2.ID, c1.SessionID, c2.SessionID)
	}
}

// forge builds a compact JWS from a header, a payload and a signing
// function over the signing input.
func forge(header, claims any, sign func(input []byte) []byte) string {
	input := b64(header) + "." + b64(claims)
	return input + "." + b64(sign([]byte(input)))
}

func hs256(secret []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

// publicForms returns the forms in which an attacker might feed a public
// key to HMAC: PEM, DER and JWK, plus raw bytes for Ed25519.
func publicForms(t *testing.T, pub any) map[string][]byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: "k1", Algorithm: "EdDSA", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string][]byte{
		"PEM": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"DER": der,
		"JWK": jwk,
	}
	if ed, ok := pub.(ed25519.PublicKey); ok {
		forms["raw"] = ed
	}
	return forms
}

// TestVerifyRefusesForgeries is the JWT forgery battery (attack scenario
// 5; S-36 to S-44): every variant gets ErrInvalidToken and no claims.
func TestVerifyRefusesForgeries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	es, _ := NewES256Key("k2")
	if err := e.keys.AddNext(es); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := goodClaims(now)
	with := func(k string, v any) map[string]any {
		c := maps.Clone(good)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	hdr := func(alg, kid string, extra ...any) map[string]any {
		h := map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i].(string)] = extra[i+1]
		}
		return h
	}
	attacker, _ := NewEd25519Key("k1") // same kid as the real key
	rawEd := func(k *PrivateKey) func([]byte) []byte {
		priv := k.priv.(ed25519.PrivateKey)
		return func(in []byte) []byte { return ed25519.Sign(priv, in) }
	}
	var jkuHits atomic.Int64
	jku := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jkuHits.Add(1)
		io.WriteString(w, `{"keys":[]}`)
	}))
	defer jku.Close()
	attackerJWK := jose.JSONWebKey{Key: attacker.Public(), KeyID: "k1", Algorithm: "EdDSA"}

	valid := sign(t, e.key, good)
	parts := strings.Split(valid, ".")

	cases := map[string]string{
		"stripped signature":           parts[0] + "." + parts[1] + ".",
		"truncated signature":          parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4],
		"truncated token":              valid[:len(valid)/2],
		"signature of another token":   parts[0] + "." + b64(with("sub", "mallory")) + "." + parts[2],
		"tampered payload":             parts[0] + "." + b64(with("sub", "admin")) + "." + parts[2],
		"extra part":                   valid + ".AAAA",
		"JSON serialization":           `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`,
		"whitespace":                   parts[0] + ". " + parts[1] + "." + parts[2],
		"padding":                      valid + "==",
		"expired":                      sign(t, e.key, with("exp", now.Add(-e.iss.leeway-time.Second).Unix())),
		"expired, issued long ago":     sign(t, e.key, with("iat", now.Add(-time.Hour).Unix())),
		"not yet valid":                sign(t, e.key, with("nbf", now.Add(5*time.Minute).Unix())),
		"issued in the future":         sign(t, e.key, map[string]any{"iss": testIssuer, "sub": "alice", "aud": testAudience, "iat": now.Add(10 * time.Minute).Unix(), "exp": now.Add(15 * time.Minute).Unix(), "jti": "x", "sid": good["sid"]}),
		"missing exp":                  sign(t, e.key, with("exp", nil)),
		"missing iat":                  sign(t, e.key, with("iat", nil)),
		"missing sub":                  sign(t, e.key, with("sub", nil)),
		"missing sid":                  sign(t, e.key, with("sid", nil)),
		"malformed sid":                sign(t, e.key, with("sid", "../../etc/passwd")),
		"missing jti":                  sign(t, e.key, with("jti", nil)),
		"exp as string":                sign(t, e.key, with("exp", "tomorrow")),
		"longer than AccessTTL":        sign(t, e.key, with("exp", now.Add(time.Hour).Unix())),
		"wrong iss":                    sign(t, e.key, with("iss", "https://evil.example")),
		"missing iss":                  sign(t, e.key, with("iss", nil)),
		"aud missing":                  sign(t, e.key, with("aud", nil)),
		"aud []":                       sign(t, e.key, with("aud", []string{})),
		`aud "other"`:                  sign(t, e.key, with("aud", "other")),
		`aud ["other"]`:                sign(t, e.key, with("aud", []string{"other"})),
		`aud ""`:                       sign(t, e.key, with("aud", "")),
		"payload not JSON":             parts[0] + "." + b64("not json") + "." + parts[2],
		"unknown kid":                  forge(hdr("EdDSA", "k9"), good, rawEd(e.key)),
		"kid path traversal":           forge(hdr("EdDSA", "../../dev/null"), good, rawEd(e.key)),
		"kid SQL":                      forge(hdr("EdDSA", "' OR '1'='1"), good, rawEd(e.key)),
		"kid 10 KB":                    forge(hdr("EdDSA", strings.Repeat("k", 10<<10)), good, rawEd(e.key)),
		"kid empty":                    forge(hdr("EdDSA", ""), good, rawEd(e.key)),
		"kid missing":                  forge(map[string]any{"alg": "EdDSA", "typ": "at+jwt"}, good, rawEd(e.key)),
		"kid case":                     forge(hdr("EdDSA", "K1"), good, rawEd(e.key)),
		"typ missing":                  forge(map[string]any{"alg": "EdDSA", "kid": "k1"}, good, rawEd(e.key)),
		"typ JWT (ID-token shaped)":    forge(hdr("EdDSA", "k1", "typ", "JWT"), with("nonce", "n"), rawEd(e.key)),
		"typ refresh":                  forge(hdr("EdDSA", "k1", "typ", "rt+jwt"), good, rawEd(e.key)),
		"embedded jwk, attacker key":   forge(hdr("EdDSA", "k1", "jwk", attackerJWK), good, rawEd(attacker)),
		"embedded jwk, no kid":         forge(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "jwk": attackerJWK}, good, rawEd(attacker)),
		"jku":                          forge(hdr("EdDSA", "k1", "jku", jku.URL), good, rawEd(attacker)),
		"x5u":                          forge(hdr("EdDSA", "k1", "x5u", jku.URL), good, rawEd(attacker)),
		"x5c":                          forge(hdr("EdDSA", "k1", "x5c", []string{"MIIB"}), good, rawEd(attacker)),
		"zip DEF":                      forge(hdr("EdDSA", "k1", "zip", "DEF"), good, rawEd(e.key)),
		"crit":                         forge(hdr("EdDSA", "k1", "crit", []string{"exp"}), good, rawEd(e.key)),
		"b64 false":                    forge(hdr("EdDSA", "k1", "b64", false), good, rawEd(e.key)),
		"duplicate alg":                b64(`{"alg":"EdDSA","kid":"k1","typ":"at+jwt","alg":"none"}`) + "." + b64(good) + "." + b64("x"),
		"header reordered":             forge(`{"typ":"at+jwt","kid":"k1","alg":"EdDSA"}`, good, rawEd(e.key)),
		"header with spaces":           forge(`{"alg": "EdDSA", "kid": "k1", "typ": "at+jwt"}`, good, rawEd(e.key)),
		"JWE (five parts)":             "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d",
		"ES256 key, EdDSA alg":         forge(hdr("EdDSA", "k2"), good, rawEd(e.key)),
		"EdDSA key, ES256 alg":         forge(hdr("ES256", "k1"), good, rawEd(e.key)),
		"RS256 alg":                    forge(hdr("RS256", "k1"), good, rawEd(e.key)),
		"refresh token as access":      "",
		"empty":                        "",
		"1 KB of dots within the size": strings.Repeat(".", 1<<10),
		"non-ASCII":                    parts[0] + "." + parts[1] + "." + parts[2] + "é",
	}
	p, _ := e.login(t, "alice")
	cases["refresh token as access"] = p.RefreshToken
	// The raw signature is not canonical base64url when its last
	// character carries stray bits.
	sig := []byte(parts[2])
	sig[len(sig)-1] ^= 1
	cases["non-canonical signature encoding"] = parts[0] + "." + parts[1] + "." + string(sig)

	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		cases["alg "+alg+", empty signature"] = b64(hdr(alg, "k1")) + "." + b64(good) + "."
		cases["alg "+alg+", some signature"] = b64(hdr(alg, "k1")) + "." + b64(good) + "." + b64("sig")
		cases["alg "+alg+", no kid"] = b64(map[string]any{"alg": alg, "typ": "at+jwt"}) + "." + b64(good) + "."
	}
	for name, k := range map[string]*PrivateKey{"Ed25519": e.key, "ECDSA": es} {
		for form, secret := range publicForms(t, k.Public()) {
			cases["HS256 with the "+name+" public key, "+form] = forge(hdr("HS256", k.ID()), good, hs256(secret))
		}
	}

	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := e.iss.Verify(context.Background(), tok)
			if !errors.Is(err, ErrInvalidToken) || c != nil {
				t.Fatalf("Verify = %+v, %v; want nil, ErrInvalidToken", c, err)
			}
			t.Log(err)
			if strings.Contains(err.Error(), tok) && tok != "" {
				t.Errorf("the error quotes the token")
			}
		})
	}
	if n := jkuHits.Load(); n != 0 {
		t.Errorf("the jku/x5u server got %d requests, want 0", n)
	}
	// The control: the same machinery accepts the good token and the
	// array form of aud that includes ours.
	// Their times are taken now, not at the start, and sit half the leeway
	// inside their bounds, so that a slow run of the cases above cannot
	// carry them across.
	ctl := time.Now()
	half := e.iss.leeway / 2
	for name, tok := range map[string]string{
		"good":                    sign(t, e.key, goodClaims(ctl)),
		`aud ["other","ours"]`:    sign(t, e.key, with("aud", []string{"other", testAudience})),
		"signed by the next key":  sign(t, es, goodClaims(ctl)),
		"exp in a minute":         sign(t, e.key, with("exp", ctl.Add(time.Minute).Unix())),
		"exp within leeway":       sign(t, e.key, with("exp", ctl.Add(-half).Unix())),
		"nbf within leeway":       sign(t, e.key, with("nbf", ctl.Add(half).Unix())),
		"iat within leeway ahead": sign(t, e.key, with("iat", ctl.Add(half).Unix())),
	} {
		if _, err := e.iss.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// S-43: a token that is both expired and badly signed is a signature
// failure, with no claims.
func TestBadSignatureIsClassifiedFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := time.Now()
	c := goodClaims(now.Add(-time.Hour))
	tok := sign(t, e.key, c)
	parts := strings.Split(tok, ".")
	other, _ := NewEd25519Key("k1")
	forged := parts[0] + "." + parts[1] + "." + strings.Split(sign(t, other, c), ".")[2]
	claims, err := e.iss.Verify(context.Background(), forged)
	if claims != nil || err != errSignature {
		t.Fatalf("Verify = %v, %v; want nil, %v", claims, err, errSignature)
	}
}

// S-40 with a fake clock: exp-1s passes, exp+leeway+1s fails.
func TestExpiryAgainstTheClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	iat := time.Now().Truncate(time.Second)
	tok := sign(t, e.key, goodClaims(iat))
	exp := iat.Add(5 * time.Minute)
	for _, tc := range []struct {
		at time.Time
		ok bool
	}{
		{iat.Add(-e.iss.leeway - time.Second), false}, // before nbf - leeway
		{iat, true},
		{exp.Add(-time.Second), true},
		{exp.Add(e.iss.leeway), true},
		{exp.Add(e.iss.leeway + time.Second), false},
	} {
		_, err := e.iss.check(tok, tc.at)
		if (err == nil) != tc.ok {
			t.Errorf("at iat%+v: err %v, want ok=%v", tc.at.Sub(iat), err, tc.ok)
		}
	}
}

// S-44 and CVE-2025-30204: a megabyte of dots is refused at once, with a
// bounded number of allocations that does not grow with its length. The
// allocations are counted exactly; the time is the fastest of 10 tries
// (a try the scheduler delays on a loaded machine does not count), which
// must be under cheapBound: it takes microseconds, and a refusal that did
// work in proportion to the token's length squared, or backtracked, would
// take minutes.
func TestManyDotsAreCheap(t *testing.T) {
	e := newEnv(t, withManager(func(c *keycard.Config) { c.Logger = slog.New(slog.DiscardHandler) }))
	ctx := context.Background()
	for _, n := range []int{1 << 20, 8 << 10, 100} {
		dots := strings.Repeat(".", n)
		if _, err := e.iss.Verify(ctx, dots); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("%d dots: %v", n, err)
		}
		d := fastest(10, func() { e.iss.Verify(ctx, dots) })
		t.Logf("%d dots: refused in %v", n, d)
		if d > cheapBound {
			t.Errorf("%d dots took %v at the fastest of 10, want < %v", n, d, cheapBound)
		}
		allocs := testing.AllocsPerRun(100, func() { e.iss.Verify(ctx, dots) })
		if allocs > 2 {
			t.Errorf("%d dots: %v allocations per Verify, want <= 2", n, allocs)
		}
	}
	// Through the middleware too.
	h := e.iss.Middleware(false)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler reached")
	}))
	auth := "Bearer " + strings.Repeat(".", 1<<20)
	var code int
	d := fastest(10, func() {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		code = rec.Code
	})
	t.Logf("middleware: refused in %v", d)
	if code != http.StatusUnauthorized || d > cheapBound {
		t.Errorf("middleware: %d in %v at the fastest of 10, want 401 within %v", code, d, cheapBound)
	}
}

// cheapBound is what TestManyDotsAreCheap allows a refusal at the fastest
// of 10 tries: two seconds, hundreds of times what a linear refusal of a
// megabyte takes even under -race on a loaded machine, and a small
// fraction of the minutes that work quadratic in its length would take.
const cheapBound = 2 * time.Second

// fastest returns the shortest time f took in n calls.
func fastest(n int, f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range n {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

// TestVerifyIgnoresTheStore: default verification makes no store call;
// strict makes one.
func TestVerifyStoreCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	before := e.st.loads.Load()
	e.iss.Verify(context.Background(), p.AccessToken)
	e.iss.Verify(context.Background(), "garbage")
	if n := e.st.loads.Load() - before; n != 0 {
		t.Errorf("Verify made %d store loads, want 0", n)
	}
	e.iss.VerifyStrict(context.Background(), p.AccessToken)
	if n := e.st.loads.Load() - before; n != 1 {
		t.Errorf("VerifyStrict made %d store loads, want 1", n)
	}
}

func TestVerifyStrictAfterLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, cookie := e.login(t, "alice")
	e.logout(t, cookie)
	if _, err := e.iss.Verify(context.Background(), p.AccessToken); err != nil {
		t.Errorf("Verify after logout: %v, want the token to live until exp", err)
	}
	if _, err := e.iss.VerifyStrict(context.Background(), p.AccessToken); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyStrict after logout: %v, want ErrInvalidToken", err)
	}
	if _, err := e.iss.Refresh(context.Background(), p.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("Refresh after logout: %v, want ErrInvalidGrant", err)
	}
}

func TestVerifyStrictStoreFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	e.st.down.Store(true)
	_, err := e.iss.VerifyStrict(context.Background(), p.AccessToken)
	if err == nil || errors.Is(err, ErrInvalidToken) || !errors.Is(err, errDown) {
		t.Fatalf("VerifyStrict with the store down: %v, want the store error, not ErrInvalidToken", err)
	}
	if _, err := e.iss.Verify(context.Background(), p.AccessToken); err != nil {
		t.Errorf("Verify needs no store: %v", err)
	}
}

func TestErrorsDoNotLeakToClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, cookie := e.login(t, "alice")
	now := time.Now()
	expired := sign(t, e.key, goodClaims(now.Add(-time.Hour)))
	other, _ := NewEd25519Key("k1")
	forged := sign(t, other, goodClaims(now))
	wrongAud := goodClaims(now)
	wrongAud["aud"] = "other"
	e.logout(t, cookie)

	h := e.iss.Middleware(true)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler reached")
	}))
	var bodies []string
	var headers []http.Header
	for _, tok := range []string{expired, forged, sign(t, e.key, wrongAud), p.AccessToken, "x.y.z", strings.Repeat("a", 9000)} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", rec.Code)
		}
		bodies = append(bodies, rec.Body.String())
		headers = append(headers, rec.Header())
	}
	for i := range bodies {
		if bodies[i] != bodies[0] || !maps.EqualFunc(headers[i], headers[0], slices.Equal) {
			t.Errorf("response %d differs: %q %v vs %q %v", i, bodies[i], headers[i], bodies[0], headers[0])
		}
		for _, word := range []string{"jwt", "signature", "expired", "audience", "session", "panic"} {
			if strings.Contains(strings.ToLower(bodies[i]), word) {
				t.Errorf("body %q mentions %q", bodies[i], word)
			}
		}
	}
	if got := headers[0].Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	h := e.iss.Middleware(false)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFromContext(r.Context())
		if !ok {
			t.Error("no claims in context")
			return
		}
		io.WriteString(w, c.Subject)
	}))
	for _, tc := range []struct {
		name, auth []string
		code       int
		challenge  string
	}{
		{[]string{"valid"}, []string{"Bearer " + p.AccessToken}, 200, ""},
		{[]string{"scheme case"}, []string{"bearer " + p.AccessToken}, 200, ""},
		{[]string{"no header"}, nil, 401, "Bearer"},
		{[]string{"basic"}, []string{"Basic YWxpY2U6cHc="}, 401, "Bearer"},
		{[]string{"empty bearer"}, []string{"Bearer "}, 401, `Bearer error="invalid_token"`},
		{[]string{"two headers"}, []string{"Bearer " + p.AccessToken, "Bearer " + p.AccessToken}, 401, `Bearer error="invalid_token"`},
		{[]string{"refresh token"}, []string{"Bearer " + p.RefreshToken}, 401, `Bearer error="invalid_token"`},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		for _, a := range tc.auth {
			req.Header.Add("Authorization", a)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.code || rec.Header().Get("WWW-Authenticate") != tc.challenge {
			t.Errorf("%s: %d %q, want %d %q", tc.name[0], rec.Code, rec.Header().Get("WWW-Authenticate"), tc.code, tc.challenge)
		}
		if tc.code == 200 && rec.Body.String() != "alice" {
			t.Errorf("%s: body %q", tc.name[0], rec.Body.String())
		}
	}
	if _, ok := ClaimsFromContext(context.Background()); ok {
		t.Error("claims in an empty context")
	}
}

func TestMiddlewareStrictStoreDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	e.st.down.Store(true)
	h := e.iss.Middleware(true)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler reached with the store down")
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+p.AccessToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
}

// An AccessTTL that is not whole seconds still yields tokens that pass
// the lifetime check.
func TestFractionalAccessTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withIssuer(func(c *Config) { c.AccessTTL = 90*time.Second + 500*time.Millisecond }))
	for range 5 {
		p, _ := e.login(t, "alice")
		if _, err := e.iss.Verify(context.Background(), p.AccessToken); err != nil {
			t.Fatal(err)
		}
		if p.ExpiresIn > 90*time.Second {
			t.Fatalf("ExpiresIn %v", p.ExpiresIn)
		}
		time.Sleep(130 * time.Millisecond)
	}
}
