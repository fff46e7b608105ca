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

	"github.com/keycard-go/keycard"
)

func marshal(t *testing.T, k *keycard.KeyFile) []byte {
	t.Helper()
	data, err := k.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b := Generate(now), Generate(now)
	if len(a.Session) != 1 || a.Refresh == nil || len(a.Token) != 1 {
		t.Fatalf("Generate made %d session, %v refresh, %d token keys", len(a.Session), a.Refresh != nil, len(a.Token))
	}
	if !strings.HasPrefix(a.Token[0].ID, "20260102-") {
		t.Errorf("token key ID %q", a.Token[0].ID)
	}
	if bytes.Equal(a.Session[0], b.Session[0]) || bytes.Equal(a.Token[0].Seed, b.Token[0].Seed) || a.Token[0].ID == b.Token[0].ID {
		t.Error("two Generate calls made the same keys")
	}
}

func TestWriteAndLoad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "k.keys")
	k := Generate(time.Now())
	if err := Write(path, marshal(t, k), false); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, marshal(t, Generate(time.Now())), false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Write without force: %v, want ErrExist", err)
	}
	got, err := keycard.LoadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Session[0], k.Session[0]) {
		t.Error("Write without force replaced the file")
	}
	if err := Write(path, marshal(t, Generate(time.Now())), true); err != nil {
		t.Errorf("Write with force: %v", err)
	}
	if got, _ := keycard.LoadKeys(path); got == nil || bytes.Equal(got.Session[0], k.Session[0]) {
		t.Error("Write with force kept the old keys")
	}
	if runtime.GOOS == "windows" {
		return
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}
