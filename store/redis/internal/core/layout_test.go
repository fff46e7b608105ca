package core

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

func TestValuesRoundTripEveryField(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)
	for name, rec := range map[string]*store.Record{
		"full": {
			UserID: "alice", Created: t0, LastSeen: t0.Add(time.Minute), AuthTime: t0,
			Expires: t0.Add(30 * time.Minute), Deadline: t0.Add(8 * time.Hour), Persistent: true,
			IP: "192.0.2.1", UserAgent: "test/1.0", Data: []byte{0, 1, 0xff},
		},
		"zero times, anonymous": {Data: []byte{}},
		"before 1970":           {Expires: time.Date(1960, 1, 1, 0, 0, 0, 1, time.UTC), Data: []byte{}},
	} {
		got, token, err := decodeValue(encodeValue(rec, 7, 3))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := rec.Clone()
		want.Version = 7
		if !reflect.DeepEqual(got, want) || token != 3 {
			t.Errorf("%s: got %+v (token %d), want %+v (token 3)", name, got, token, want)
		}
	}
}

func TestDecodeValueRejectsDamage(t *testing.T) {
	t.Parallel()
	b := encodeValue(&store.Record{UserID: "alice"}, 1, 1)
	for _, bad := range [][]byte{nil, b[:headerLen-1], b[:headerLen+2], append([]byte{'X'}, b[1:]...)} {
		if _, _, err := decodeValue(bad); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("decodeValue(%q): got %v, want ErrCorrupt", bad, err)
		}
	}
}

func TestMembersRoundTripAnyKey(t *testing.T) {
	t.Parallel()
	hexKey := strings.Repeat("0123456789abcdef", 4)
	for _, key := range []string{hexKey, strings.ToUpper(hexKey), "short", "with.dots.", "~tilde", ""} {
		m := member(key, 42)
		got, token, ok := parseMember(m)
		if !ok || got != key || token != 42 {
			t.Errorf("parseMember(member(%q, 42)) = %q, %d, %t", key, got, token, ok)
		}
	}
	if m := member(hexKey, 1<<63); len(m) > 64 {
		t.Errorf("member of a hex key is %d bytes, want at most 64 (Redis's listpack limit)", len(m))
	}
	for _, m := range []string{"", "nodot", "abc.x", "dG9vc2hvcnQ.1"} {
		if _, _, ok := parseMember(m); ok {
			t.Errorf("parseMember(%q): got ok, want not ours", m)
		}
	}
}

func TestMillisecondsRoundOutward(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ns          int64
		ceil, floor int64
	}{
		{1_500_000, 2, 1}, {2_000_000, 2, 2}, {-1_500_000, -1, -2}, {-2_000_000, -2, -2}, {1, 1, 0},
	} {
		tm := time.Unix(0, c.ns)
		if got := ceilMillis(tm); got != c.ceil {
			t.Errorf("ceilMillis(%dns) = %d, want %d", c.ns, got, c.ceil)
		}
		if got := floorMillis(tm); got != c.floor {
			t.Errorf("floorMillis(%dns) = %d, want %d", c.ns, got, c.floor)
		}
	}
}

func TestIndexKeysEscapeHashTagCharacters(t *testing.T) {
	t.Parallel()
	s := &Store{prefix: "p:"}
	for user, want := range map[string]string{
		"alice": "p:u:{alice}",
		"a}b{":  "p:u:{a%7Db%7B}",
		"%7D":   "p:u:{%257D}",
	} {
		if got := s.indexKey(user); got != want {
			t.Errorf("indexKey(%q) = %q, want %q", user, got, want)
		}
	}
}

// BenchmarkDecodeValueInto measures what a load spends decoding a stored
// value the size of a signed-in session's, as LoadRecord does: into a
// record of its own, then checked and copied out.
func BenchmarkDecodeValueInto(b *testing.B) {
	now := time.Now()
	v := encodeValue(&store.Record{
		UserID: "alice", Created: now, LastSeen: now, AuthTime: now,
		Expires: now.Add(time.Hour), Deadline: now.Add(8 * time.Hour),
		IP: "192.0.2.1", UserAgent: strings.Repeat("u", 60),
		Data: []byte(strings.Repeat("d", 150)),
	}, 3, 7)
	var rec store.Record
	b.ReportAllocs()
	for b.Loop() {
		var out store.Record
		if _, err := decodeValueInto(v, &out); err != nil {
			b.Fatal(err)
		}
		if !out.Live(now) {
			b.Fatal("decoded record is not live")
		}
		rec = out
	}
	if rec.UserID != "alice" {
		b.Fatalf("decoded user %q", rec.UserID)
	}
}
