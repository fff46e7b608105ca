package token

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/keycard-go/keycard"
)

// KeySetFromFile returns the access-token keys of a key file (see
// keycard.LoadKeys) as a KeySet of Ed25519 keys: the first is current, the
// others previous, verifying the tokens they signed until those expire.
// Together with the file's refresh key it configures an Issuer that keeps
// its tokens valid across restarts and instances:
//
//	keys, err := keycard.LoadKeys("app.keys")
//	...
//	set, err := token.KeySetFromFile(keys)
//	...
//	iss, err := token.New(m, token.Config{Issuer: origin, Audience: origin, Keys: set, RefreshKey: keys.Refresh})
func KeySetFromFile(k *keycard.KeyFile) (*KeySet, error) {
	if k == nil || len(k.Token) == 0 {
		return nil, errors.New("token: key file: no token key (a \"token KID SEED\" line)")
	}
	var set *KeySet
	for i, t := range k.Token {
		if len(t.Seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("token: key file: token key %q: want a %d-byte seed", t.ID, ed25519.SeedSize)
		}
		pk, err := NewPrivateKey(t.ID, ed25519.NewKeyFromSeed(t.Seed))
		if err != nil {
			return nil, fmt.Errorf("token: key file: %w", err)
		}
		if i == 0 {
			if set, err = NewKeySet(pk); err != nil {
				return nil, fmt.Errorf("token: key file: %w", err)
			}
			continue
		}
		if err := set.AddPrevious(pk); err != nil {
			return nil, fmt.Errorf("token: key file: %w", err)
		}
	}
	return set, nil
}
