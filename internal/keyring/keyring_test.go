package keyring

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// secret returns 32 random-looking bytes derived from b.
func secret(b byte) []byte {
	sum := sha256.Sum256([]byte{b})
	return sum[:]
}

func TestSignWithNewestVerifyWithAny(t *testing.T) {
	t.Parallel()
	old, err := New("test", [][]byte{secret(1)})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := New("test", [][]byte{secret(2), secret(1)})
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello")
	tag := old.Sign(nil, msg)
	if !rotated.Verify(old.SignID(), tag, msg) {
		t.Fatal("rotated ring rejects a tag made with its older key")
	}
	if rotated.SignID() == old.SignID() {
		t.Fatal("rotated ring signs with the old key")
	}
	newTag := rotated.Sign(nil, msg)
	if old.Verify(rotated.SignID(), newTag, msg) {
		t.Fatal("old ring accepts a tag from a key it does not hold")
	}
	if rotated.Verify(old.SignID(), tag, []byte("hellp")) {
		t.Fatal("tag verifies for a different message")
	}
}

func TestPurposesDeriveDistinctKeys(t *testing.T) {
	t.Parallel()
	a, _ := New("cookie", [][]byte{secret(1)})
	b, _ := New("csrf", [][]byte{secret(1)})
	msg := []byte("m")
	if b.Verify(a.SignID(), a.Sign(nil, msg), msg) {
		t.Fatal("a tag for one purpose verifies for another")
	}
}

func TestNewRejectsWeakKeys(t *testing.T) {
	t.Parallel()
	cases := map[string][][]byte{
		"no keys":        nil,
		"short key":      {make([]byte, 16)},
		"all zero key":   {make([]byte, 32)},
		"repeated byte":  {bytes.Repeat([]byte{'a'}, 64)},
		"duplicate keys": {secret(1), secret(1)},
	}
	for name, keys := range cases {
		if _, err := New("p", keys); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}

func TestCheckRefusesPasswordsAndPatterns(t *testing.T) {
	t.Parallel()
	for _, k := range []string{
		"correct horse battery staple!!!!",
		"passwordpasswordpasswordpassword",
		"0123456789abcdef0123456789abcdef",
		"abababababababababababababababab",
	} {
		if err := Check([]byte(k)); err == nil {
			t.Errorf("Check accepted %q", k)
		}
	}
	for _, k := range []string{
		"q3Xk9vB2mZ7rT1yW8pL4nC6sD0fG5hJ2aK8eU3iO7uY", // 43 base64url characters: 256 bits as text
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	} {
		if err := Check([]byte(k)); err != nil {
			t.Errorf("Check refused %q: %v", k, err)
		}
	}
}

func TestDeriverKeysPerPurposeAndSecret(t *testing.T) {
	d, err := NewDeriver([][]byte{secret(1), secret(2)})
	if err != nil {
		t.Fatal(err)
	}
	a, b := d.Derive("csrf"), d.Derive("guard")
	if len(a) != 2 || len(a[0]) != 32 {
		t.Fatalf("Derive gave %d keys, want 2 of 32 bytes", len(a))
	}
	if bytes.Equal(a[0], a[1]) || bytes.Equal(a[0], b[0]) || bytes.Equal(a[0], secret(1)) {
		t.Fatal("derived keys repeat across secrets, purposes, or the secret itself")
	}
	again, _ := NewDeriver([][]byte{secret(1)})
	if !bytes.Equal(again.Derive("csrf")[0], a[0]) {
		t.Fatal("the same secret and purpose derive different keys")
	}
}

// SignWith signs under any key of the ring: its key 1 signs what a ring
// whose newest key that is signs, so an instance can compute what another
// instance, further along a key rollout, derived.
func TestSignWithAnyKey(t *testing.T) {
	t.Parallel()
	r, err := New("test", [][]byte{secret(2), secret(1)})
	if err != nil {
		t.Fatal(err)
	}
	other, err := New("test", [][]byte{secret(1), secret(2)})
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello")
	if r.Len() != 2 {
		t.Fatalf("Len: %d, want 2", r.Len())
	}
	if !bytes.Equal(r.SignWith(0, nil, msg), r.Sign(nil, msg)) {
		t.Error("SignWith(0) differs from Sign")
	}
	if !bytes.Equal(r.SignWith(1, nil, msg), other.Sign(nil, msg)) {
		t.Error("SignWith(1) differs from what a ring with that key first signs")
	}
	if bytes.Equal(r.SignWith(1, nil, msg), r.Sign(nil, msg)) {
		t.Error("SignWith(1) signs with the newest key")
	}
}
