// Package keyring holds ordered secret keys: it signs with the newest and
// accepts any listed key, so secrets can be rotated without logging anyone
// out. Each purpose derives its own subkeys with HKDF, so one secret never
// serves two algorithms or two purposes.
package keyring

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// MinSecret is the shortest secret accepted, in bytes.
const MinSecret = 32

// KeyIDSize is the length of a key ID in bytes.
const KeyIDSize = 4

// Ring is an ordered set of MAC keys for one purpose. The zero Ring holds no
// keys; use New.
type Ring struct {
	keys []*macKey
}

type macKey struct {
	id   [KeyIDSize]byte
	pool sync.Pool // of *macState under this key
}

// macState is a reusable HMAC-SHA256, a buffer for its input (copying the
// message there keeps the caller's slices from escaping to the heap
// through the hash's interface) and one for its sum.
type macState struct {
	h   hash.Hash
	msg []byte
	sum [sha256.Size]byte
}

// New derives one MAC key per secret for purpose. secrets are ordered newest
// first: the first signs, all verify. It rejects an empty list, short
// secrets, secrets of one repeated byte, and duplicates.
func New(purpose string, secrets [][]byte) (*Ring, error) {
	if len(secrets) == 0 {
		return nil, errors.New("no keys")
	}
	r := &Ring{}
	for i, s := range secrets {
		if err := Check(s); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		for _, prev := range secrets[:i] {
			if bytes.Equal(prev, s) {
				return nil, fmt.Errorf("key %d: duplicate of an earlier key", i)
			}
		}
		k, err := derive(purpose, s)
		if err != nil {
			return nil, err
		}
		r.keys = append(r.keys, k)
	}
	return r, nil
}

// Check reports whether secret is acceptable as key material: at least
// MinSecret bytes that look random. It refuses what random bytes almost
// never are: one byte repeated, a short pattern repeated, few distinct
// byte values, or printable text too short to hold 256 bits (a password
// or passphrase; hex under 64 characters; base64 under 43). Keys typed
// as text must be the encoding of 32 random bytes, decoded or not.
func Check(secret []byte) error {
	if len(secret) < MinSecret {
		return fmt.Errorf("too short: %d bytes, need at least %d", len(secret), MinSecret)
	}
	if bytes.Count(secret, secret[:1]) == len(secret) {
		return errors.New("one byte repeated is not a secret")
	}
	for p := 1; p <= len(secret)/2; p++ {
		if subtle.ConstantTimeCompare(secret[p:], secret[:len(secret)-p]) == 1 {
			return fmt.Errorf("a %d-byte pattern repeated is not a secret", p)
		}
	}
	var seen [256]bool
	distinct, printable, hex := 0, true, true
	for _, c := range secret {
		if !seen[c] {
			seen[c], distinct = true, distinct+1
		}
		printable = printable && c >= 0x20 && c < 0x7f
		hex = hex && ('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F')
	}
	switch {
	case distinct < 12:
		return fmt.Errorf("only %d distinct byte values: not random", distinct)
	case hex && len(secret) < 64:
		return fmt.Errorf("%d hex digits hold %d bits, need 256 (64 digits)", len(secret), len(secret)*4)
	case printable && len(secret) < 43:
		return fmt.Errorf("%d characters of text are a password, not a key; use 32 random bytes (NewKey)", len(secret))
	}
	return nil
}

func derive(purpose string, secret []byte) (*macKey, error) {
	mk, err := hkdf.Key(sha256.New, secret, nil, "keycard mac "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	id, err := hkdf.Key(sha256.New, secret, nil, "keycard key id "+purpose, KeyIDSize)
	if err != nil {
		return nil, fmt.Errorf("derive key id: %w", err)
	}
	k := &macKey{}
	copy(k.id[:], id)
	k.pool.New = func() any { return &macState{h: hmac.New(sha256.New, mk)} }
	return k, nil
}

// SignID returns the ID of the signing (newest) key.
func (r *Ring) SignID() [KeyIDSize]byte { return r.keys[0].id }

// Sign appends to dst the HMAC-SHA256 of the concatenated parts under the
// newest key.
func (r *Ring) Sign(dst []byte, parts ...[]byte) []byte {
	st := r.keys[0].mac(parts)
	dst = append(dst, st.sum[:]...)
	r.keys[0].pool.Put(st)
	return dst
}

// Len returns how many keys the ring holds.
func (r *Ring) Len() int { return len(r.keys) }

// SignWith is Sign under the ring's key number i (0 is the newest), for
// values that another instance, whose newest key is another, derived.
func (r *Ring) SignWith(i int, dst []byte, parts ...[]byte) []byte {
	st := r.keys[i].mac(parts)
	dst = append(dst, st.sum[:]...)
	r.keys[i].pool.Put(st)
	return dst
}

// Verify reports whether tag is the HMAC of parts under the key with ID id.
// An unknown key ID verifies nothing. The comparison is constant-time.
func (r *Ring) Verify(id [KeyIDSize]byte, tag []byte, parts ...[]byte) bool {
	ok := false
	for _, k := range r.keys {
		if k.id == id {
			st := k.mac(parts)
			ok = hmac.Equal(st.sum[:], tag) || ok
			k.pool.Put(st)
		}
	}
	return ok
}

// mac computes the HMAC of parts into a pooled state, which the caller
// returns to k.pool.
func (k *macKey) mac(parts [][]byte) *macState {
	st := k.pool.Get().(*macState)
	st.msg = st.msg[:0]
	for _, p := range parts {
		st.msg = append(st.msg, p...)
	}
	st.h.Reset()
	st.h.Write(st.msg)
	st.h.Sum(st.sum[:0])
	return st
}
