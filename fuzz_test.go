package keycard

import (
	"bytes"
	"net/http"
	"testing"
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
	f.Fuzz(func(t *testing.T, b []byte) {
		size, err := checkValues(b)
		if err != nil {
			return
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
