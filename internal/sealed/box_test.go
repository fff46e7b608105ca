package sealed

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
)

// secret returns 32 random-looking bytes derived from b.
func secret(b byte) []byte {
	sum := sha256.Sum256([]byte{b})
	return sum[:]
}

func mustBox(t testing.TB, secrets ...[]byte) *Box {
	t.Helper()
	b, err := New("test", secrets)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	b := mustBox(t, secret(1))
	for _, msg := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("session"), 500)} {
		sealed := b.Seal(nil, msg, []byte("cookie"))
		if len(sealed) != len(msg)+Overhead {
			t.Errorf("sealed %d bytes into %d, want %d", len(msg), len(sealed), len(msg)+Overhead)
		}
		got, err := b.Open(nil, sealed, []byte("cookie"))
		if err != nil || !bytes.Equal(got, msg) {
			t.Errorf("round trip of %d bytes: %v", len(msg), err)
		}
	}
}

func TestEveryChangeIsRejected(t *testing.T) {
	t.Parallel()
	b := mustBox(t, secret(1))
	sealed := b.Seal(nil, []byte("user=alice"), []byte("cookie"))
	for i := range sealed {
		for bit := 0; bit < 8; bit++ {
			bad := bytes.Clone(sealed)
			bad[i] ^= 1 << bit
			if _, err := b.Open(nil, bad, []byte("cookie")); !errors.Is(err, ErrOpen) {
				t.Fatalf("flipping bit %d of byte %d: got %v, want ErrOpen", bit, i, err)
			}
		}
	}
	for n := 0; n < len(sealed); n++ {
		if _, err := b.Open(nil, sealed[:n], []byte("cookie")); !errors.Is(err, ErrOpen) {
			t.Fatalf("truncated to %d: got %v", n, err)
		}
	}
	if _, err := b.Open(nil, append(bytes.Clone(sealed), 0), []byte("cookie")); !errors.Is(err, ErrOpen) {
		t.Error("an appended byte was accepted")
	}
	if _, err := b.Open(nil, sealed, []byte("csrf")); !errors.Is(err, ErrOpen) {
		t.Error("a value opened under other associated data")
	}
}

func TestSealingTwiceDiffers(t *testing.T) {
	t.Parallel()
	b := mustBox(t, secret(1))
	seen := map[string]bool{}
	for range 10000 {
		s := string(b.Seal(nil, []byte("same"), nil))
		if seen[s] {
			t.Fatal("two seals of one plaintext are equal")
		}
		seen[s] = true
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	old := mustBox(t, secret(1))
	both := mustBox(t, secret(2), secret(1))
	only := mustBox(t, secret(2))
	v := old.Seal(nil, []byte("v"), nil)
	if _, err := both.Open(nil, v, nil); err != nil {
		t.Errorf("a value sealed under the old key fails after rotation: %v", err)
	}
	if _, err := old.Open(nil, both.Seal(nil, []byte("v"), nil), nil); err == nil {
		t.Error("new values are still sealed under the old key")
	}
	if _, err := only.Open(nil, v, nil); err == nil {
		t.Error("a removed key still opens its values")
	}
	other, _ := New("other purpose", [][]byte{secret(1)})
	if _, err := other.Open(nil, v, nil); err == nil {
		t.Error("a value opens under another purpose")
	}
}

func TestNewRefusesWeakKeys(t *testing.T) {
	t.Parallel()
	for name, s := range map[string][][]byte{
		"none": nil, "short": {make([]byte, 16)}, "zero": {make([]byte, 32)}, "duplicate": {secret(1), secret(1)},
	} {
		if _, err := New("p", s); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func FuzzOpen(f *testing.F) {
	b := mustBox(f, secret(1))
	f.Add(b.Seal(nil, []byte("hello"), []byte("ad")))
	f.Add([]byte{})
	f.Add(make([]byte, Overhead))
	f.Fuzz(func(t *testing.T, v []byte) {
		if out, err := b.Open(nil, v, []byte("ad")); err == nil {
			// Only a value sealed by b can open; the fuzzer cannot forge one.
			if !bytes.Equal(out, []byte("hello")) {
				t.Fatalf("forged value opened: %q", out)
			}
		}
	})
}

func BenchmarkSealOpen(b *testing.B) {
	box := mustBox(b, secret(1))
	msg := bytes.Repeat([]byte("x"), 300)
	b.ReportAllocs()
	for b.Loop() {
		v := box.Seal(nil, msg, []byte("cookie"))
		if _, err := box.Open(nil, v, []byte("cookie")); err != nil {
			b.Fatal(err)
		}
	}
}
