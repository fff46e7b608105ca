package keyring

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// Deriver derives per-purpose keys from an ordered list of secrets, for
// code that needs a server secret of its own (anti-forgery tokens, keyed
// hashes) without ever holding the secrets themselves.
type Deriver struct {
	prks [][]byte // HKDF pseudorandom keys, newest first
}

// NewDeriver returns a Deriver for secrets, newest first. It keeps only
// HKDF-Extract outputs: what it derives never reveals the secrets.
func NewDeriver(secrets [][]byte) (*Deriver, error) {
	d := &Deriver{}
	for i, s := range secrets {
		prk, err := hkdf.Extract(sha256.New, s, []byte("keycard derived keys v1"))
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		d.prks = append(d.prks, prk)
	}
	return d, nil
}

// Derive returns one 32-byte key per secret for purpose, newest first.
// Distinct purposes get unrelated keys.
func (d *Deriver) Derive(purpose string) [][]byte {
	out := make([][]byte, len(d.prks))
	for i, prk := range d.prks {
		k, err := hkdf.Expand(sha256.New, prk, "keycard app key "+purpose, 32)
		if err != nil {
			panic("keyring: " + err.Error()) // only for lengths HKDF cannot give
		}
		out[i] = k
	}
	return out
}
