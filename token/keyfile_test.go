package token

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/keycard-go/keycard"
)

func TestKeySetFromFile(t *testing.T) {
	t.Parallel()
	k := &keycard.KeyFile{
		Session: []keycard.Key{keycard.NewKey()},
		Refresh: keycard.NewKey(),
		Token:   []keycard.TokenKey{{ID: "new", Seed: keycard.NewKey()}, {ID: "old", Seed: keycard.NewKey()}},
	}
	set, err := KeySetFromFile(k)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Current().ID(); got != "new" {
		t.Errorf("current key %q, want the file's first token key", got)
	}
	// The same seeds give the same keys: a restarted Issuer verifies the
	// tokens of the one before it.
	again, _ := KeySetFromFile(k)
	if !again.Current().(*PrivateKey).Public().(ed25519.PublicKey).Equal(set.Current().(*PrivateKey).Public()) {
		t.Error("the same key file gave a different signing key")
	}
	for _, bad := range []*keycard.KeyFile{nil, {Session: k.Session}, {Session: k.Session, Token: []keycard.TokenKey{{ID: "x", Seed: keycard.Key("short")}}}} {
		if _, err := KeySetFromFile(bad); err == nil || !strings.HasPrefix(err.Error(), "token: key file: ") {
			t.Errorf("KeySetFromFile(%+v): %v", bad, err)
		}
	}
}
