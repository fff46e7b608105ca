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

// macState is a reusable HMAC-SHA256 and a buffer for its sum.
type macState struct {
	h   hash.Hash
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
// MinSecret bytes and not one byte repeated.
func Check(secret []byte) error {
	if len(secret) < MinSecret {
		return fmt.Errorf("too short: %d bytes, need at least %d", len(secret), MinSecret)
	}
	if bytes.Count(secret, secret[:1]) == len(secret) {
		return errors.New("one byte repeated is not a secret")
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
	st.h.Reset()
	for _, p := range parts {
		st.h.Write(p)
	}
	st.h.Sum(st.sum[:0])
	return st
}
