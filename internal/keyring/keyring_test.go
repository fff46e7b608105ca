package keyring

import (
	"bytes"
	"testing"
)

func secret(b byte) []byte {
	s := bytes.Repeat([]byte{b}, 32)
	s[0] ^= 0xff
	return s
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
