package devcert

import (
	"crypto/ecdsa"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoadOrCreate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tls.pem")
	now := time.Now()
	cert, created, err := LoadOrCreate(path, "127.0.0.1", now)
	if err != nil || !created {
		t.Fatalf("first call: created %v, %v", created, err)
	}
	if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("key is %T, want ECDSA", cert.PrivateKey)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := cert.Leaf.VerifyHostname(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if _, created, err := LoadOrCreate(path, "0.0.0.0", now); err != nil || created {
		t.Errorf("second call: created %v, %v; want the kept certificate", created, err)
	}
	cert, created, err = LoadOrCreate(path, "devbox.local", now)
	if err != nil || !created || cert.Leaf.VerifyHostname("devbox.local") != nil {
		t.Errorf("another host: created %v, %v", created, err)
	}
	if _, created, _ := LoadOrCreate(path, "", now.Add(Lifetime)); !created {
		t.Error("an expiring certificate was kept")
	}
}
