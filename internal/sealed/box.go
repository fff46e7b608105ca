package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/keycard-go/keycard/internal/keyring"
)

const (
	version   = 1
	keyIDSize = 4
	saltSize  = 16
	nonceSize = 12
	header    = 1 + keyIDSize + saltSize + nonceSize

	// Overhead is how many bytes Seal adds to a plaintext.
	Overhead = header + 16

	// MinSecret is the shortest secret New accepts, in bytes.
	MinSecret = 32
)

// ErrOpen is returned by Open for any value that does not decrypt and
// authenticate: tampered, truncated, sealed under an unknown key, or bound
// to other associated data. It does not say which.
var ErrOpen = errors.New("sealed: cannot open value")

// A Box seals and opens values. It is safe for concurrent use.
type Box struct {
	keys []key
}

type key struct {
	id     [keyIDSize]byte
	secret []byte // derived for this purpose
}

// New returns a Box for purpose over secrets, newest first. Each secret
// must hold at least MinSecret random bytes; secrets that do not look
// random (a repeated pattern, few distinct bytes, short text) and
// duplicates are refused. The same secrets give unrelated keys for
// different purposes.
func New(purpose string, secrets [][]byte) (*Box, error) {
	if len(secrets) == 0 {
		return nil, errors.New("sealed: no keys")
	}
	b := &Box{}
	for i, s := range secrets {
		if err := keyring.Check(s); err != nil {
			return nil, fmt.Errorf("sealed: key %d: %w", i, err)
		}
		for _, prev := range secrets[:i] {
			if bytes.Equal(prev, s) {
				return nil, fmt.Errorf("sealed: key %d: duplicate of an earlier key", i)
			}
		}
		sec, err := hkdf.Key(sha256.New, s, nil, "keycard sealed "+purpose, 32)
		if err != nil {
			return nil, err
		}
		id, err := hkdf.Key(sha256.New, s, nil, "keycard sealed key id "+purpose, keyIDSize)
		if err != nil {
			return nil, err
		}
		k := key{secret: sec}
		copy(k.id[:], id)
		b.keys = append(b.keys, k)
	}
	return b, nil
}

// Seal encrypts and authenticates plaintext, bound to ad, under the newest
// key, and appends the result to dst.
func (b *Box) Seal(dst, plaintext, ad []byte) []byte {
	k := &b.keys[0]
	var h [header]byte
	h[0] = version
	copy(h[1:], k.id[:])
	rand.Read(h[1+keyIDSize:])
	aead := k.aead(h[1+keyIDSize : 1+keyIDSize+saltSize])
	dst = append(dst, h[:]...)
	return aead.Seal(dst, h[header-nonceSize:], plaintext, adFor(h[:], ad))
}

// Open authenticates and decrypts a value made by Seal with the same ad,
// under any key of the ring, and appends the plaintext to dst.
func (b *Box) Open(dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead || sealed[0] != version {
		return nil, ErrOpen
	}
	h := sealed[:header]
	for i := range b.keys {
		k := &b.keys[i]
		if !bytes.Equal(k.id[:], h[1:1+keyIDSize]) {
			continue
		}
		aead := k.aead(h[1+keyIDSize : 1+keyIDSize+saltSize])
		if out, err := aead.Open(dst, h[header-nonceSize:], sealed[header:], adFor(h, ad)); err == nil {
			return out, nil
		}
	}
	return nil, ErrOpen
}

// aead returns AES-256-GCM under the key derived from k for salt.
func (k *key) aead(salt []byte) cipher.AEAD {
	sub, err := hkdf.Key(sha256.New, k.secret, salt, "keycard sealed value", 32)
	if err != nil {
		panic("sealed: hkdf: " + err.Error())
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		panic("sealed: aes: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("sealed: gcm: " + err.Error())
	}
	return aead
}

// adFor binds the header (version, key ID, salt, nonce) and the caller's
// associated data, length-prefixed so no two pairs collide.
func adFor(h, ad []byte) []byte {
	out := make([]byte, 0, len(h)+8+len(ad))
	out = append(out, h...)
	n := uint64(len(ad))
	out = append(out, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	return append(out, ad...)
}
