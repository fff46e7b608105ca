package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// A KeySet holds the keys of an Issuer, each in one of three states:
//
//   - current: the one key that signs new access tokens;
//   - next: keys published in the JWKS, and accepted by Verify, that do
//     not sign yet, so every verifier knows them before the first token
//     they sign appears;
//   - previous: retired keys that still verify the tokens they signed,
//     until those tokens have expired: 2×AccessTTL+Leeway after its
//     retirement (the longest of the Issuers using the set), a previous
//     key is dropped from the set and the JWKS. The extra AccessTTL covers
//     instances that promote up to AccessTTL apart, as in a rolling
//     deploy: a lagging instance signs with the old key until it promotes
//     too.
//
// Rotating keys without logging anyone out:
//
//  1. AddNext(k2) on every instance (typically a deploy that adds k2 to
//     the configuration as next), and wait for the JWKS max-age (5
//     minutes) so verifiers elsewhere have fetched it.
//  2. Promote("k2") on every instance: new tokens carry k2's kid, and the
//     old current key becomes previous.
//  3. Nothing: 2×AccessTTL+Leeway later the old key stops verifying and
//     leaves the set. Remove drops it at once, as when it leaked: its
//     tokens, genuine or forged, stop verifying.
//
// A KeySet is safe for concurrent use; rotation takes effect at once for
// the Issuers using it.
type KeySet struct {
	mu       sync.RWMutex
	current  Key
	next     []Key
	previous []retiredKey
	byHeader map[string]*slot // exact protected header → key
	byID     map[string]*slot
	version  uint64        // bumped on every change, for the JWKS cache
	horizon  time.Duration // how long a previous key verifies: max 2×AccessTTL+Leeway of the Issuers
}

type retiredKey struct {
	k     Key
	since time.Time
}

// slot is a key's place in the set.
type slot struct {
	e       *keyEntry
	retired time.Time // when it became previous; zero for next and current
}

// NewKeySet returns a KeySet whose current key is current.
func NewKeySet(current Key) (*KeySet, error) {
	if current == nil {
		return nil, errors.New("token: NewKeySet: nil key")
	}
	ks := &KeySet{byHeader: map[string]*slot{}, byID: map[string]*slot{}}
	if err := ks.add(current, time.Time{}); err != nil {
		return nil, err
	}
	ks.current = current
	return ks, nil
}

// add indexes k. ks.mu must be held for writing.
func (ks *KeySet) add(k Key, retired time.Time) error {
	if k == nil {
		return errors.New("token: nil key")
	}
	e := k.entry()
	if _, dup := ks.byID[e.kid]; dup {
		return fmt.Errorf("token: key ID %q is already in the set", e.kid)
	}
	s := &slot{e: e, retired: retired}
	ks.byID[e.kid] = s
	ks.byHeader[e.header] = s
	ks.version++
	return nil
}

// drop unindexes the key with ID kid. ks.mu must be held for writing.
func (ks *KeySet) drop(kid string) {
	if s, ok := ks.byID[kid]; ok {
		delete(ks.byID, kid)
		delete(ks.byHeader, s.e.header)
		ks.version++
	}
}

// AddNext adds k as a next key: published in the JWKS and accepted by
// Verify, but not signing until Promote.
func (ks *KeySet) AddNext(k Key) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if err := ks.add(k, time.Time{}); err != nil {
		return err
	}
	ks.next = append(ks.next, k)
	return nil
}

// AddPrevious adds k as a previous key retired now: it verifies the tokens
// it signed until they expire, for instance those an earlier process, or
// an instance not yet redeployed, signed with it before the configuration
// moved to a new key.
func (ks *KeySet) AddPrevious(k Key) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := time.Now()
	if err := ks.add(k, now); err != nil {
		return err
	}
	ks.previous = append(ks.previous, retiredKey{k: k, since: now})
	return nil
}

// Promote makes the next key kid current. The current key becomes
// previous.
func (ks *KeySet) Promote(kid string) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	i := indexOf(ks.next, kid)
	if i < 0 {
		return fmt.Errorf("token: promote: %q is not a next key", kid)
	}
	now := time.Now()
	old := ks.current
	ks.current = ks.next[i]
	ks.next = append(ks.next[:i:i], ks.next[i+1:]...)
	ks.byID[old.ID()].retired = now
	ks.previous = append(ks.previous, retiredKey{k: old, since: now})
	ks.version++
	return nil
}

// Remove drops the next or previous key kid at once: tokens it signed stop
// verifying and it leaves the JWKS. The current key cannot be removed;
// promote another first.
func (ks *KeySet) Remove(kid string) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.current.ID() == kid {
		return fmt.Errorf("token: remove: %q is the current key", kid)
	}
	if i := indexOf(ks.next, kid); i >= 0 {
		ks.next = append(ks.next[:i:i], ks.next[i+1:]...)
	} else {
		i := -1
		for j, p := range ks.previous {
			if p.k.ID() == kid {
				i = j
			}
		}
		if i < 0 {
			return fmt.Errorf("token: remove: no key %q", kid)
		}
		ks.previous = append(ks.previous[:i:i], ks.previous[i+1:]...)
	}
	ks.drop(kid)
	return nil
}

// Current returns the key that signs new tokens.
func (ks *KeySet) Current() Key {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.current
}

// IDs returns the key IDs of the next keys, the current key and the
// previous keys still in the set.
func (ks *KeySet) IDs() (next []string, current string, previous []string) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.next {
		next = append(next, k.ID())
	}
	for _, p := range ks.previous {
		previous = append(previous, p.k.ID())
	}
	return next, ks.current.ID(), previous
}

func indexOf(keys []Key, kid string) int {
	for i, k := range keys {
		if k.ID() == kid {
			return i
		}
	}
	return -1
}

// attach records that an Issuer that needs previous keys for d
// (2×AccessTTL+Leeway) uses the set.
func (ks *KeySet) attach(d time.Duration) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.horizon = max(ks.horizon, d)
}

// signer returns the current key.
func (ks *KeySet) signer() *keyEntry {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.current.entry()
}

// lookup returns the key whose protected header is exactly header. A
// previous key past the horizon is not found, pruned or not.
func (ks *KeySet) lookup(header string, now time.Time) (*keyEntry, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	s, ok := ks.byHeader[header]
	if !ok || !s.retired.IsZero() && now.Sub(s.retired) > ks.horizon {
		return nil, false
	}
	return s.e, true
}

// hasKeyID reports whether the set holds a key with this ID, for log
// details only.
func (ks *KeySet) hasKeyID(kid string) (alg jose.SignatureAlgorithm, ok bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	s, ok := ks.byID[kid]
	if !ok {
		return "", false
	}
	return s.e.alg, true
}

// prune drops previous keys past the horizon.
func (ks *KeySet) prune(now time.Time) {
	ks.mu.RLock()
	stale := false
	for _, p := range ks.previous {
		stale = stale || now.Sub(p.since) > ks.horizon
	}
	ks.mu.RUnlock()
	if !stale {
		return
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	kept := ks.previous[:0]
	for _, p := range ks.previous {
		if now.Sub(p.since) > ks.horizon {
			ks.drop(p.k.ID())
			continue
		}
		kept = append(kept, p)
	}
	clear(ks.previous[len(kept):])
	ks.previous = kept
}

// jwks returns the JSON Web Key Set of the public keys (current, next,
// previous; never a SecretKey) and the set's version.
func (ks *KeySet) jwks() ([]byte, uint64, error) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	keys := []Key{ks.current}
	keys = append(keys, ks.next...)
	for _, p := range ks.previous {
		keys = append(keys, p.k)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range keys {
		pk, ok := k.(*PrivateKey)
		if !ok {
			continue // a SecretKey is never published
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key: pk.e.public, KeyID: pk.e.kid, Algorithm: string(pk.e.alg), Use: "sig",
		})
	}
	b, err := json.Marshal(set)
	return b, ks.version, err
}

// cachedVersion returns the set's version.
func (ks *KeySet) cachedVersion() uint64 {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.version
}
