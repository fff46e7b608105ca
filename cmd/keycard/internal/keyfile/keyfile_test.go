package keyfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	k := Generate(now)
	got, err := Parse(k.Marshal(now))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Session[0], k.Session[0]) || !bytes.Equal(got.Refresh, k.Refresh) ||
		got.Token[0].ID != k.Token[0].ID || !bytes.Equal(got.Token[0].Seed, k.Token[0].Seed) {
		t.Error("keys changed in a round trip")
	}
	if !strings.HasPrefix(k.Token[0].ID, "20260102-") {
		t.Errorf("token key ID %q", k.Token[0].ID)
	}
	set, err := got.TokenKeys()
	if err != nil {
		t.Fatal(err)
	}
	if set.Current().ID() != k.Token[0].ID {
		t.Errorf("current token key %q", set.Current().ID())
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	a, b := Generate(time.Now()), Generate(time.Now().Add(24*time.Hour))
	b.Session = append(b.Session, a.Session...)
	b.Token = append(b.Token, a.Token...)
	k, err := Parse(b.Marshal(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Session) != 2 || len(k.Token) != 2 {
		t.Fatalf("got %d session and %d token keys, want 2 and 2", len(k.Session), len(k.Token))
	}
	if _, err := k.TokenKeys(); err != nil {
		t.Fatal(err)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	key2 := "HwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	key3 := "IAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	good := "session " + key + "\nrefresh " + key2 + "\ntoken k1 " + key3 + "\n"
	if _, err := Parse([]byte(Header + "\n" + good)); err != nil {
		t.Fatalf("a good file: %v", err)
	}
	tests := []struct{ file, want string }{
		{"", "empty file"},
		{"keycard-keys v2\n" + good, "line 1"},
		{Header + "\nsession short\n", "line 2: session: want 32 bytes"},
		{Header + "\nsession " + key + " extra\n", "line 2: want"},
		{Header + "\nsession " + key + "\nsession " + key + "\n", "line 3: session: the same key appears twice"},
		{Header + "\n" + good + "refresh " + "ICECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" + "\n", "a second refresh key"},
		{Header + "\n" + good + "token k1 " + "ISECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" + "\n", `key ID "k1" appears twice`},
		{Header + "\n" + good + "token bad/id " + key + "\n", "key ID must be"},
		{Header + "\nrefresh " + key2 + "\ntoken k1 " + key3 + "\n", "no session key"},
		{Header + "\nsession " + key + "\ntoken k1 " + key3 + "\n", "no refresh key"},
		{Header + "\nsession " + key + "\nrefresh " + key2 + "\n", "no token key"},
		{Header + "\nsecret " + key + "\n", `unknown kind "secret"`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q): got %v, want an error containing %q", tt.file, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), key[:20]) {
			t.Errorf("the error shows key material: %v", err)
		}
	}
}

func TestWriteAndLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "k.keys")
	data := Generate(time.Now()).Marshal(time.Now())
	if err := Write(path, data, false); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, data, false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Write without force: %v, want ErrExist", err)
	}
	if err := Write(path, Generate(time.Now()).Marshal(time.Now()), true); err != nil {
		t.Errorf("Write with force: %v", err)
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	os.Chmod(path, 0o640)
	if _, err := Load(path); !errors.Is(err, ErrInsecure) {
		t.Errorf("Load of a group-readable file: %v, want ErrInsecure", err)
	}
}
