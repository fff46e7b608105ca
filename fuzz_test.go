package keycard

import (
	"bytes"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// FuzzCookie feeds arbitrary Cookie headers through the cookie scanner and
// token decoder. Nothing may panic, and nothing but a token this Manager
// signed may verify.
func FuzzCookie(f *testing.F) {
	m, err := New(Config{Keys: []Key{testKey(1)}})
	if err != nil {
		f.Fatal(err)
	}
	var id sessionID
	id[3] = 7
	good := m.ids.sign(&id)
	f.Add("__Host-keycard=" + good)
	f.Add("a=b; __Host-keycard=" + good + "; c=d")
	f.Add("__Host-keycard=" + good + "; __Host-keycard=" + good)
	f.Add("__Host-keycard=\"" + good + "\"")
	f.Add("__Host-keycard=" + good[:len(good)-2] + "==")
	f.Add("__Host-keycard=;;;;===")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		h := http.Header{"Cookie": {header}}
		v, n := cookieValue(h, "__Host-keycard")
		if n == 0 && v != "" {
			t.Fatalf("no cookie counted but value %q returned", v)
		}
		got, reason := m.ids.verify(v)
		if reason == "" {
			if got != id || v != good {
				t.Fatalf("value %q verified as %x but was never issued", v, got)
			}
		} else if got != (sessionID{}) {
			t.Fatalf("rejected value %q returned a non-zero ID", v)
		}
		// open, through the cache of verified tokens (which holds the good
		// token once it was opened), answers as verify does, every time.
		for range 2 {
			oid, key, oreason := m.ids.open(v)
			switch {
			case oid != got || oreason != reason:
				t.Fatalf("open(%q) = %x, %q; verify gave %x, %q", v, oid, oreason, got, reason)
			case reason == "" && key != got.hash():
				t.Fatalf("open(%q) key %q, want %q", v, key, got.hash())
			case reason != "" && key != "":
				t.Fatalf("refused value %q returned key %q", v, key)
			}
		}
	})
}

// FuzzValues feeds arbitrary bytes to the stored-values decoder: it must
// not panic; what it accepts must look up, decode and re-encode
// consistently.
func FuzzValues(f *testing.F) {
	f.Add(encodeValues(map[string][]byte{"a": {1}, "bb": []byte("xyz")}))
	f.Add([]byte{})
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{1, 2, 1, 'b', 0, 1, 'a', 0})
	f.Add([]byte{2, 1, 1, 'a', 0})
	f.Add(encodeValues(map[string][]byte{"a": {1}, actorKey: []byte("x"), movedKey: []byte("y"), "~": nil}))
	f.Fuzz(func(t *testing.T, b []byte) {
		size, err := checkValues(b)
		if err != nil {
			return
		}
		// The load's single pass finds the reserved keys the stopping
		// scan finds.
		isize, r, ierr := inspectValues(b)
		want := scanReserved(b)
		if ierr != nil || isize != size || !bytes.Equal(r.actor, want.actor) || !bytes.Equal(r.next, want.next) || r.dead != want.dead || r.moved != want.moved {
			t.Fatalf("inspectValues = %d, %+v, %v; want %d, %+v", isize, r, ierr, size, want)
		}
		vals := decodeValues(b)
		total := 0
		for k, raw := range vals {
			got, ok := lookupValue(b, k)
			if !ok || !bytes.Equal(got, raw) {
				t.Fatalf("lookup of %q disagrees with decode", k)
			}
			total += len(k) + len(raw) + entryOverhead
		}
		if total != size {
			t.Fatalf("checkValues size %d, decoded size %d", size, total)
		}
		again := encodeValues(vals)
		if _, err := checkValues(again); err != nil {
			t.Fatalf("re-encoded values do not check: %v", err)
		}
		back := decodeValues(again)
		if len(back) != len(vals) {
			t.Fatalf("round trip changed the key count")
		}
		for k, raw := range vals {
			if !bytes.Equal(back[k], raw) {
				t.Fatalf("key %q changed in a round trip", k)
			}
		}
	})
}

// FuzzCodecFastPaths: the default codec's own encoding and decoding of
// strings, ints, int64s and bools agree with the CBOR library's: whatever
// it decodes, the library decodes to the same value, and what it encodes
// is byte for byte what the library encodes.
func FuzzCodecFastPaths(f *testing.F) {
	for _, v := range []any{"", "hello", strings.Repeat("x", 300), "\xff", 0, 23, 24, -1, -25, int64(1 << 40), int64(math.MaxInt64), int64(math.MinInt64), true, false} {
		b, _ := defaultCodec.enc.Marshal(v)
		f.Add(b)
	}
	f.Add([]byte{0x18, 0x05})                      // a non-shortest head
	f.Add([]byte{0x7f, 0x61, 0x61, 0xff})          // an indefinite-length string
	f.Add([]byte{0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0}) // past MaxInt64
	f.Fuzz(func(t *testing.T, data []byte) {
		lib := defaultCodec.dec
		checkDecode(t, data, lib, new(string), new(string))
		checkDecode(t, data, lib, new(int), new(int))
		checkDecode(t, data, lib, new(int64), new(int64))
		checkDecode(t, data, lib, new(bool), new(bool))

		var n int64
		for _, b := range data[:min(8, len(data))] {
			n = n<<8 | int64(b)
		}
		for _, v := range []any{string(data), n, int(n), int(int32(n)), len(data)%2 == 0} {
			got, ok := encodeCommon(v)
			want, err := defaultCodec.enc.Marshal(v)
			if !ok || err != nil || !bytes.Equal(got, want) {
				t.Errorf("encoding %#v: got %x (%v), the library gives %x (%v)", v, got, ok, want, err)
			}
		}
	})
}

// checkDecode checks that where decodeCommon decodes data into fast, the
// library decodes it into lib to an equal value.
func checkDecode[T comparable](t *testing.T, data []byte, dec cbor.DecMode, fast, lib *T) {
	if !decodeCommon(data, fast) {
		return
	}
	if err := dec.Unmarshal(data, lib); err != nil || *lib != *fast {
		t.Errorf("%x as %T: decoded %#v, the library gives %#v (%v)", data, *fast, *fast, *lib, err)
	}
}
