package token

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/memory"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	base := Config{Issuer: testIssuer, Audience: testAudience}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"no issuer", func(c *Config) { c.Issuer = "" }, false},
		{"no audience", func(c *Config) { c.Audience = "" }, false},
		{"AccessTTL 15m", func(c *Config) { c.AccessTTL = 15 * time.Minute }, true},
		{"AccessTTL 16m", func(c *Config) { c.AccessTTL = 16 * time.Minute }, false},
		{"AccessTTL 16m allowed", func(c *Config) { c.AccessTTL, c.AllowLongAccessTTL = 16*time.Minute, true }, true},
		{"AccessTTL 25h allowed", func(c *Config) { c.AccessTTL, c.AllowLongAccessTTL = 25*time.Hour, true }, false},
		{"AccessTTL negative", func(c *Config) { c.AccessTTL = -time.Minute }, false},
		{"Leeway 60s", func(c *Config) { c.Leeway = time.Minute }, true},
		{"Leeway 61s", func(c *Config) { c.Leeway = 61 * time.Second }, false},
		{"no leeway", func(c *Config) { c.Leeway = -1 }, true},
		{"idle > lifetime", func(c *Config) { c.RefreshIdle, c.RefreshLifetime = 2*time.Hour, time.Hour }, false},
		{"negative idle", func(c *Config) { c.RefreshIdle = -time.Hour }, false},
		{"Grace 61s", func(c *Config) { c.Grace = 61 * time.Second }, false},
		{"no grace", func(c *Config) { c.Grace = -1 }, true},
		{"short RefreshKey", func(c *Config) { c.RefreshKey = make(keycard.Key, 31) }, false},
		{"tiny MaxTokenSize", func(c *Config) { c.MaxTokenSize = 100 }, false},
		{"huge MaxTokenSize", func(c *Config) { c.MaxTokenSize = 1 << 20 }, false},
	} {
		cfg := base
		tc.mod(&cfg)
		_, err := New(m, cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "token: ") {
			t.Errorf("%s: error %q lacks the package prefix", tc.name, err)
		}
	}
	if _, err := New(nil, base); err == nil {
		t.Error("New(nil) succeeded")
	}
	sealed, err := keycard.New(keycard.Config{Sealed: true, Keys: []keycard.Key{keycard.NewKey()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(sealed, base); err == nil {
		t.Error("New over a sealed Manager succeeded")
	}
}

// Per-process keys are fine for the memory store and warned about for a
// shared one, as keycard does for cookie keys.
func TestDefaultKeysWarnForSharedStores(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)

	m, _ := keycard.New(keycard.Config{})
	if _, err := New(m, Config{Issuer: testIssuer, Audience: testAudience}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("warned for the memory store: %s", buf.String())
	}
	shared := &countingStore{Store: memory.New(memory.Config{})}
	m, _ = keycard.New(keycard.Config{Store: shared, Keys: []keycard.Key{keycard.NewKey()}})
	if _, err := New(m, Config{Issuer: testIssuer, Audience: testAudience}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "no Keys") || !strings.Contains(buf.String(), "no RefreshKey") {
		t.Errorf("no warning for a shared store: %s", buf.String())
	}
}
