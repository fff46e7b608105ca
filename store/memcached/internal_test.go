package memcached

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

func TestExpirationRoundsUpAndSwitchesToAbsoluteAfter30Days(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	wall := time.Date(2026, 3, 1, 12, 0, 0, 400_000_000, time.UTC) // the server's clock, a little ahead
	const day = 24 * time.Hour
	tests := []struct {
		name string
		in   time.Duration
		want int64
	}{
		{"already dead", -time.Second, expireNow},
		{"dead exactly now", 0, expireNow},
		{"one nanosecond left", time.Nanosecond, 2},
		{"one second left", time.Second, 2},
		{"a second and a half left", 1500 * time.Millisecond, 3},
		{"30 minutes and 123µs left", 30*time.Minute + 123*time.Microsecond, 30*60 + 2},
		{"30 days less a second: the longest relative", 30*day - time.Second, maxRelative},
		{"30 days: absolute", 30 * day, wall.Unix() + maxRelative + 1},
		{"45 days: absolute", 45 * day, wall.Unix() + 45*86400 + 1},
		{"past 2038: the last 32-bit second", 100 * 365 * day, math.MaxInt32},
		{"the longest duration", math.MaxInt64, math.MaxInt32},
	}
	for _, tt := range tests {
		until := now.Add(tt.in)
		if got := expiration(until, now, wall); int64(got) != tt.want {
			t.Errorf("%s: expiration(now%+v) = %d, want %d", tt.name, tt.in, got, tt.want)
		}
	}
}

// An absolute expiration never comes before the moment, by the server's
// clock, at which the record dies, whatever the sub-second parts.
func TestAbsoluteExpirationIsNeverEarly(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, frac := range []time.Duration{0, 1, 499 * time.Millisecond, 999_999_999} {
		wall := now.Add(frac)
		for _, left := range []time.Duration{40 * 24 * time.Hour, 40*24*time.Hour + time.Nanosecond, 40*24*time.Hour + 999*time.Millisecond} {
			got := int64(expiration(now.Add(left), now, wall))
			if dies := wall.Add(left); got <= maxRelative || time.Unix(got, 0).Before(dies) {
				t.Errorf("wall +%v, %v left: got %d (%v), want an absolute time at or after %v", frac, left, got, time.Unix(got, 0).UTC(), dies)
			}
		}
	}
}

func sampleRecord() *store.Record {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	return &store.Record{
		UserID: "alice", Created: t0, LastSeen: t0, AuthTime: t0, Expires: t0.Add(time.Hour),
		Deadline: t0.Add(8 * time.Hour), Persistent: true, IP: "192.0.2.1", UserAgent: "test/1.0",
		Data: []byte("data\x00\xff"),
	}
}

func TestEntryRoundTripsInlineAndChunked(t *testing.T) {
	t.Parallel()
	for _, e := range []*entry{
		{version: 1, rec: sampleRecord()},
		{version: 1 << 40, rec: sampleRecord(), chunks: chunkRef{nonce: 0xdeadbeef, count: 3, size: 10_000}},
	} {
		got, err := decodeEntry(e.encode())
		if err != nil {
			t.Fatalf("decodeEntry(encode(%+v)): %v", e, err)
		}
		want := e.rec.Clone()
		want.Version = e.version
		if e.chunks.count > 0 {
			want.Data = nil
		}
		if got.version != e.version || got.chunks != e.chunks || !reflect.DeepEqual(got.rec, want) {
			t.Errorf("got %+v with record %+v, want %+v with record %+v", got, got.rec, e, want)
		}
	}
}

func TestEntryDecodingRejectsDamage(t *testing.T) {
	t.Parallel()
	chunked := (&entry{version: 2, rec: sampleRecord(), chunks: chunkRef{nonce: 7, count: 2, size: 5000}}).encode()
	for name, b := range map[string][]byte{
		"inline":  (&entry{version: 2, rec: sampleRecord()}).encode(),
		"chunked": chunked,
	} {
		for i := range len(b) {
			if _, err := decodeEntry(b[:i]); !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("%s truncated to %d bytes: got %v, want ErrCorrupt", name, i, err)
			}
		}
		bad := bytes.Clone(b)
		bad[8] = 'x'
		if _, err := decodeEntry(bad); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("%s with an unknown layout: got %v, want ErrCorrupt", name, err)
		}
		zero := bytes.Clone(b)
		clear(zero[:8])
		if _, err := decodeEntry(zero); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("%s at version 0: got %v, want ErrCorrupt", name, err)
		}
	}
	withData := append([]byte(nil), chunked[:headerLen]...)
	withData = binary.BigEndian.AppendUint64(withData, 7)
	withData = binary.AppendUvarint(withData, 2)
	withData = binary.AppendUvarint(withData, 5000)
	withData = append(withData, store.EncodeRecord(sampleRecord())...)
	if _, err := decodeEntry(withData); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("chunked entry with inline data: got %v, want ErrCorrupt", err)
	}
}

func TestItemKeysAreValidAndDistinct(t *testing.T) {
	t.Parallel()
	s := &Store{prefix: "app:"}
	digest := strings.Repeat("0123456789abcdef", 4)
	if got := s.itemKey(digest); got != "app:"+digest {
		t.Errorf("itemKey(a 64-digit hex key) = %q, want it verbatim after the prefix", got)
	}
	seen := make(map[string]string)
	for _, key := range []string{
		digest, "a", "A", "", " ", "has space", "line\nbreak", "ユーザー", strings.Repeat("f", 65),
		strings.Repeat("x", 300), "#" + digest, digest + ":0:0",
	} {
		got := s.itemKey(key)
		if len(got) > maxKey || strings.ContainsFunc(got, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			t.Errorf("itemKey(%q) = %q, not a valid memcached key", key, got)
		}
		if strings.ContainsRune(got[len(s.prefix):], ':') {
			t.Errorf("itemKey(%q) = %q holds a ':' after the prefix, like a chunk key", key, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("itemKey(%q) = itemKey(%q) = %q", key, other, got)
		}
		seen[got] = key
	}
	long := &Store{prefix: strings.Repeat("p", maxPrefix)}
	if got := chunkKey(long.itemKey("x"), math.MaxUint64, maxChunks); len(got) > maxKey {
		t.Errorf("longest chunk key is %d bytes, want at most %d", len(got), maxKey)
	}
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"prefix with a space":   {Prefix: "my app:"},
		"prefix with a newline": {Prefix: "app\n"},
		"prefix too long":       {Prefix: strings.Repeat("p", maxPrefix+1)},
		"tiny items":            {MaxItemSize: 1000},
		"negative item size":    {MaxItemSize: -1},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: got no panic, want one", name)
				}
			}()
			cfg.withDefaults()
		}()
	}
	got := Config{}.withDefaults()
	if got.Prefix != DefaultPrefix || got.MaxItemSize != DefaultMaxItemSize || got.Now == nil {
		t.Errorf("zero Config: got %+v, want the defaults", got)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add((&entry{version: 1, rec: sampleRecord()}).encode())
	f.Add((&entry{version: 9, rec: sampleRecord(), chunks: chunkRef{nonce: 1, count: 2, size: 3000}}).encode())
	f.Add((&entry{version: 1, rec: &store.Record{}}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := decodeEntry(e.encode())
		if err != nil || again.version != e.version || again.chunks != e.chunks || !reflect.DeepEqual(again.rec, e.rec) {
			t.Fatalf("accepted entry does not round-trip: %v", err)
		}
	})
}
