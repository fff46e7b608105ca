package token

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Published example vectors, verified through go-jose exactly as Verify
// uses it, to prove the plumbing. The examples have no kid or typ, carry
// other claims and expired long ago, so Verify itself must refuse them:
// they test the signature layer, not the claim policy.

const rfcPayload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

var rfcVectors = []struct {
	name  string
	alg   jose.SignatureAlgorithm
	jwk   string
	token string
}{
	{
		name:  "RFC 7515 A.1 (HS256)",
		alg:   jose.HS256,
		jwk:   `{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}`,
		token: "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + rfcPayload + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	},
	{
		name:  "RFC 7515 A.3 (ES256)",
		alg:   jose.ES256,
		jwk:   `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}`,
		token: "eyJhbGciOiJFUzI1NiJ9." + rfcPayload + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
	},
	{
		name:  "RFC 8037 A.4 (EdDSA)",
		alg:   jose.EdDSA,
		jwk:   `{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		token: "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
	},
}

func TestRFCVectorsVerifyThroughGoJose(t *testing.T) {
	t.Parallel()
	for _, v := range rfcVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			var jwk jose.JSONWebKey
			if err := jwk.UnmarshalJSON([]byte(v.jwk)); err != nil {
				t.Fatal(err)
			}
			verifyKey := jwk.Key
			if !jwk.IsPublic() && v.alg != jose.HS256 {
				verifyKey = jwk.Public().Key
			}
			jws, err := jose.ParseSignedCompact(v.token, []jose.SignatureAlgorithm{v.alg})
			if err != nil {
				t.Fatal(err)
			}
			payload, err := jws.Verify(verifyKey)
			if err != nil {
				t.Fatalf("the published signature does not verify: %v", err)
			}
			want, _ := base64.RawURLEncoding.DecodeString(strings.Split(v.token, ".")[1])
			if string(payload) != string(want) {
				t.Fatalf("payload %q", payload)
			}
			// One changed byte of the signing input breaks it.
			tampered := strings.Replace(v.token, ".", ".e", 1)
			if jws, err := jose.ParseSignedCompact(tampered, []jose.SignatureAlgorithm{v.alg}); err == nil {
				if _, err := jws.Verify(verifyKey); err == nil {
					t.Error("a tampered vector verifies")
				}
			}
			// Pinning another algorithm refuses it at parse time.
			if _, err := jose.ParseSignedCompact(v.token, []jose.SignatureAlgorithm{jose.RS256}); err == nil {
				t.Error("parsed under another algorithm")
			}

			// Our policy refuses it: the same key in our set, but no kid,
			// no typ, and claims from 2011.
			var k Key
			switch key := jwk.Key.(type) {
			case []byte:
				k, err = NewSecretKey("rfc", key)
			default:
				k, err = NewPrivateKey("rfc", key.(crypto.Signer))
			}
			if err != nil {
				t.Fatal(err)
			}
			ks, _ := NewKeySet(k)
			e := newEnv(t, withIssuer(func(c *Config) { c.Keys = ks }))
			if _, err := e.iss.Verify(context.Background(), v.token); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify accepted an RFC example: %v", err)
			}
		})
	}
}

// The RFC 7519 example claims decode through go-jose's jwt package, and its
// validation sees they expired in 2011.
func TestRFC7519ExampleClaims(t *testing.T) {
	t.Parallel()
	v := rfcVectors[0]
	var jwk jose.JSONWebKey
	jwk.UnmarshalJSON([]byte(v.jwk))
	tok, err := jwt.ParseSigned(v.token, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.Claims
	var extra map[string]any
	if err := tok.Claims(jwk.Key, &c, &extra); err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "joe" || c.Expiry.Time() != time.Unix(1300819380, 0) || extra["http://example.com/is_root"] != true {
		t.Fatalf("claims %+v %v", c, extra)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: "joe"}, 0); !errors.Is(err, jwt.ErrExpired) {
		t.Errorf("validation: %v, want expired", err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: "joe", Time: time.Unix(1300819380-60, 0)}, 0); err != nil {
		t.Errorf("validation at the time of the example: %v", err)
	}
}

// Ed25519 is deterministic: signing the RFC 8037 input with its key
// through go-jose reproduces the published signature.
func TestRFC8037SignatureReproduces(t *testing.T) {
	t.Parallel()
	v := rfcVectors[2]
	var jwk jose.JSONWebKey
	jwk.UnmarshalJSON([]byte(v.jwk))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jwk.Key.(ed25519.PrivateKey)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte("Example of Ed25519 signing"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := jws.CompactSerialize()
	if got != v.token {
		t.Errorf("got  %s\nwant %s", got, v.token)
	}
}
