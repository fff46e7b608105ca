package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Signature algorithms. Every Key is pinned to exactly one of them: a token
// whose header names another algorithm is refused, whatever its signature.
const (
	EdDSA = "EdDSA" // Ed25519 (RFC 8037): the default
	ES256 = "ES256" // ECDSA on P-256 with SHA-256
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, keys of 2048 bits or more
	HS256 = "HS256" // HMAC-SHA-256 with a shared secret, for a single service
)

// maxKeyIDLen bounds a key ID. Key IDs are also limited to the characters
// of validKeyID, so they never need escaping anywhere.
const maxKeyIDLen = 64

// A Key signs and verifies access tokens under one key ID and one
// algorithm. It is either a *PrivateKey (EdDSA, ES256 or RS256), whose
// public half others can fetch from the JWKS, or a *SecretKey (HS256),
// which is never published. The two kinds are distinct types and are
// never used for each other: a token that names HS256 is checked only
// against a *SecretKey, so a public key can never serve as an HMAC secret.
//
// A Key formats as "[REDACTED]" in fmt and log/slog output, apart from its
// ID and algorithm.
type Key interface {
	// ID returns the key ID, the JWS "kid" header of tokens it signs.
	ID() string
	// Algorithm returns the one algorithm the key signs and verifies with.
	Algorithm() string

	entry() *keyEntry
}

// keyEntry is what a KeySet keeps of a Key.
type keyEntry struct {
	kid    string
	alg    jose.SignatureAlgorithm
	signer jose.Signer // signs with typ "at+jwt" and this kid
	verify any         // the go-jose verification key: a public key, or []byte for HS256
	public any         // the public key to publish, or nil for HS256
	header string      // the exact protected header this key produces, base64url
}

// A PrivateKey is an asymmetric signing key: Ed25519 (EdDSA), ECDSA P-256
// (ES256) or RSA (RS256). Its public half is published in the JWKS.
type PrivateKey struct {
	e    keyEntry
	priv crypto.Signer
}

// A SecretKey is a symmetric HS256 key, for a single service that both
// issues and verifies its tokens. It is never published.
type SecretKey struct {
	e keyEntry
}

// NewEd25519Key returns a new random Ed25519 (EdDSA) key with the given
// key ID. Key IDs are 1 to 64 characters of letters, digits, '-', '_' and
// '.'.
func NewEd25519Key(kid string) (*PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("token: new Ed25519 key: %w", err)
	}
	return NewPrivateKey(kid, priv)
}

// NewES256Key returns a new random ECDSA P-256 (ES256) key.
func NewES256Key(kid string) (*PrivateKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("token: new ES256 key: %w", err)
	}
	return NewPrivateKey(kid, priv)
}

// NewRS256Key returns a new random 2048-bit RSA (RS256) key. Generating
// one takes a noticeable fraction of a second; prefer NewEd25519Key unless
// a verifier needs RSA.
func NewRS256Key(kid string) (*PrivateKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("token: new RS256 key: %w", err)
	}
	return NewPrivateKey(kid, priv)
}

// NewHS256Key returns a new random 32-byte HS256 secret key.
func NewHS256Key(kid string) (*SecretKey, error) {
	secret := make([]byte, 32)
	rand.Read(secret)
	return NewSecretKey(kid, secret)
}

// NewPrivateKey wraps existing key material: an ed25519.PrivateKey
// becomes an EdDSA key, an *ecdsa.PrivateKey on P-256 an ES256 key, and an
// *rsa.PrivateKey of at least 2048 bits an RS256 key. Other keys are
// refused.
func NewPrivateKey(kid string, key crypto.Signer) (*PrivateKey, error) {
	var alg jose.SignatureAlgorithm
	switch k := key.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, errors.New("token: Ed25519 key of the wrong size")
		}
		alg = jose.EdDSA
	case *ecdsa.PrivateKey:
		if k == nil || k.Curve != elliptic.P256() {
			return nil, errors.New("token: ECDSA keys must be on P-256 (ES256)")
		}
		alg = jose.ES256
	case *rsa.PrivateKey:
		if k == nil || k.N.BitLen() < 2048 {
			return nil, errors.New("token: RSA keys must have at least 2048 bits")
		}
		alg = jose.RS256
	default:
		return nil, fmt.Errorf("token: unsupported key type %T", key)
	}
	pub := key.Public()
	e, err := newEntry(kid, alg, key, pub)
	if err != nil {
		return nil, err
	}
	e.public = pub
	return &PrivateKey{e: *e, priv: key}, nil
}

// NewSecretKey wraps an existing HS256 secret of at least 32 bytes, which
// it copies.
func NewSecretKey(kid string, secret []byte) (*SecretKey, error) {
	if len(secret) < 32 {
		return nil, errors.New("token: an HS256 secret needs at least 32 bytes")
	}
	secret = append([]byte(nil), secret...)
	e, err := newEntry(kid, jose.HS256, secret, secret)
	if err != nil {
		return nil, err
	}
	return &SecretKey{e: *e}, nil
}

func newEntry(kid string, alg jose.SignatureAlgorithm, signing, verify any) (*keyEntry, error) {
	if !validKeyID(kid) {
		return nil, fmt.Errorf("token: key ID must be 1 to %d characters of [A-Za-z0-9._-]", maxKeyIDLen)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: signing},
		(&jose.SignerOptions{}).WithType(typeAccessToken).WithHeader("kid", kid),
	)
	if err != nil {
		return nil, fmt.Errorf("token: key %s: %v", kid, err)
	}
	e := &keyEntry{kid: kid, alg: alg, signer: signer, verify: verify}
	// The protected header is the same for every token the key signs.
	// Verification demands exactly these bytes, which pins kid, alg and
	// typ at once and refuses every other header parameter (jwk, jku, x5u,
	// x5c, zip, crit...) before anything is parsed.
	probe, err := signer.Sign([]byte("{}"))
	if err != nil {
		return nil, fmt.Errorf("token: key %s: %v", kid, err)
	}
	compact, err := probe.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("token: key %s: %v", kid, err)
	}
	e.header, _, _ = strings.Cut(compact, ".")
	return e, nil
}

// validKeyID reports whether kid is 1 to 64 characters of [A-Za-z0-9._-].
func validKeyID(kid string) bool {
	if kid == "" || len(kid) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(kid); i++ {
		c := kid[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ID returns the key ID.
func (k *PrivateKey) ID() string { return k.e.kid }

// Algorithm returns EdDSA, ES256 or RS256.
func (k *PrivateKey) Algorithm() string { return string(k.e.alg) }

// Public returns the public key: an ed25519.PublicKey, *ecdsa.PublicKey or
// *rsa.PublicKey.
func (k *PrivateKey) Public() crypto.PublicKey { return k.e.public }

func (k *PrivateKey) entry() *keyEntry { return &k.e }

// String returns the key's ID and algorithm, never its material.
func (k PrivateKey) String() string { return redacted("PrivateKey", &k.e) }

// GoString is String, so %#v does not print key material either.
func (k PrivateKey) GoString() string { return k.String() }

// LogValue logs the key's ID and algorithm only.
func (k PrivateKey) LogValue() slog.Value { return logValue(&k.e) }

// Format prints the key as String does, whatever the verb.
func (k PrivateKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }

// ID returns the key ID.
func (k *SecretKey) ID() string { return k.e.kid }

// Algorithm returns HS256.
func (k *SecretKey) Algorithm() string { return string(k.e.alg) }

func (k *SecretKey) entry() *keyEntry { return &k.e }

// String returns the key's ID and algorithm, never its material.
func (k SecretKey) String() string { return redacted("SecretKey", &k.e) }

// GoString is String, so %#v does not print key material either.
func (k SecretKey) GoString() string { return k.String() }

// LogValue logs the key's ID and algorithm only.
func (k SecretKey) LogValue() slog.Value { return logValue(&k.e) }

// Format prints the key as String does, whatever the verb.
func (k SecretKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }

func redacted(kind string, e *keyEntry) string {
	return "token." + kind + "{kid: " + e.kid + ", alg: " + string(e.alg) + ", [REDACTED]}"
}

func logValue(e *keyEntry) slog.Value {
	return slog.GroupValue(slog.String("kid", e.kid), slog.String("alg", string(e.alg)))
}
