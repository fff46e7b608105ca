package keycard

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/keycard-go/keycard/store/memory"
)

// Three distinct 32-byte keys in unpadded base64url.
const (
	testKey1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	testKey2 = "HwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	testKey3 = "IAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
)

func newTestKeyFile() *KeyFile {
	return &KeyFile{
		Session: []Key{NewKey(), NewKey()},
		Refresh: NewKey(),
		Token:   []TokenKey{{ID: "20261203-a1b2c3", Seed: NewKey()}, {ID: "old", Seed: NewKey()}},
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	t.Parallel()
	want := newTestKeyFile()
	text, err := want.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(text, []byte(keyFileHeader+"\n")) {
		t.Fatalf("the file does not start with its header:\n%s", text)
	}
	var got KeyFile
	if err := got.UnmarshalText(text); err != nil {
		t.Fatal(err)
	}
	if len(got.Session) != 2 || !bytes.Equal(got.Session[0], want.Session[0]) || !bytes.Equal(got.Session[1], want.Session[1]) {
		t.Error("session keys changed or reordered in a round trip")
	}
	if !bytes.Equal(got.Refresh, want.Refresh) {
		t.Error("refresh key changed in a round trip")
	}
	if len(got.Token) != 2 || got.Token[0].ID != want.Token[0].ID || !bytes.Equal(got.Token[0].Seed, want.Token[0].Seed) ||
		got.Token[1].ID != "old" {
		t.Errorf("token keys changed in a round trip: %+v", got.Token)
	}
	// Only session keys: an application that issues no tokens.
	only := &KeyFile{Session: []Key{NewKey()}}
	text, err = only.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if err := got.UnmarshalText(text); err != nil || got.Refresh != nil || len(got.Token) != 0 {
		t.Errorf("a file of session keys only: %v, %+v", err, got)
	}
	if _, err := (&KeyFile{}).MarshalText(); err == nil {
		t.Error("MarshalText of a KeyFile without a session key succeeded")
	}
}

func TestKeyFileOneLine(t *testing.T) {
	t.Parallel()
	var k KeyFile
	err := k.UnmarshalText([]byte(keyFileHeader + ";session " + testKey1 + "; session " + testKey2 + ";refresh " + testKey3 + ";"))
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Session) != 2 || k.Refresh == nil {
		t.Errorf("got %d session keys, refresh %v", len(k.Session), k.Refresh != nil)
	}
}

func TestKeyFileErrors(t *testing.T) {
	t.Parallel()
	h := keyFileHeader + "\n"
	tests := []struct{ file, want string }{
		{"", "empty key file"},
		{"\n# only a comment\n", "empty key file"},
		{"keycard-keys v2\nsession " + testKey1 + "\n", "line 1: want"},
		{"session " + testKey1 + "\n", "line 1: want"},
		{h + "session short\n", "line 2: session: want 32 bytes"},
		{h + "session " + testKey1 + "=\n", "line 2: session: want 32 bytes"},
		{h + "session " + testKey1 + " extra\n", "line 2: want"},
		{h + "session " + testKey1 + "\nsession " + testKey1 + "\n", "line 3: session: the same key appears twice"},
		{h + "session " + testKey1 + "\nrefresh " + testKey1 + "\n", "line 3: refresh: the same key appears twice"},
		{h + "session " + testKey1 + "\nrefresh " + testKey2 + "\nrefresh " + testKey3 + "\n", "a second refresh key"},
		{h + "session " + testKey1 + "\ntoken k1 " + testKey2 + "\ntoken k1 " + testKey3 + "\n", `key ID "k1" appears twice`},
		{h + "session " + testKey1 + "\ntoken bad/id " + testKey2 + "\n", "key ID must be"},
		{h + "session " + testKey1 + "\ntoken " + testKey2 + "\n", `want "token KID SEED"`},
		{h + "refresh " + testKey2 + "\n", "no session key"},
		{h + "session " + testKey1 + "\nsecret " + testKey2 + "\n", `line 3: unknown kind "secret"`},
	}
	for _, tt := range tests {
		var k KeyFile
		err := k.UnmarshalText([]byte(tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("UnmarshalText(%q): got %v, want an error containing %q", tt.file, err, tt.want)
			continue
		}
		for _, key := range []string{testKey1, testKey2, testKey3} {
			if strings.Contains(err.Error(), key[:20]) {
				t.Errorf("the error shows key material: %v", err)
			}
		}
		if k.Session != nil || k.Refresh != nil || k.Token != nil {
			t.Errorf("UnmarshalText(%q) changed its receiver on error", tt.file)
		}
	}
}

func writeKeyFile(t *testing.T, mode os.FileMode) string {
	t.Helper()
	text, err := newTestKeyFile().MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.keys")
	if err := os.WriteFile(path, text, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestLoadKeysRefusesAnExposedFile(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions on Windows")
	}
	if _, err := LoadKeys(writeKeyFile(t, 0o600)); err != nil {
		t.Fatalf("a private key file: %v", err)
	}
	if _, err := LoadKeys(writeKeyFile(t, 0o400)); err != nil {
		t.Fatalf("a read-only private key file: %v", err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o660} {
		path := writeKeyFile(t, mode)
		_, err := LoadKeys(path)
		if err == nil || !strings.Contains(err.Error(), "readable by others") || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("LoadKeys of a file with mode %04o: %v, want a refusal that says chmod 600", mode, err)
		}
	}
	if _, err := LoadKeys(filepath.Join(t.TempDir(), "missing.keys")); err == nil || !strings.HasPrefix(err.Error(), "keycard: keys: ") {
		t.Errorf("LoadKeys of a missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.keys")
	os.WriteFile(big, bytes.Repeat([]byte("#"), maxKeyFile+1), 0o600)
	if _, err := LoadKeys(big); err == nil || !strings.Contains(err.Error(), "not a key file") {
		t.Errorf("LoadKeys of a 1 MiB file: %v", err)
	}
}

func TestKeysFromEnv(t *testing.T) {
	path := writeKeyFile(t, 0o600)
	text, _ := os.ReadFile(path)
	t.Setenv("KEYCARD_TEST_KEYS", string(text))
	k, err := KeysFromEnv("KEYCARD_TEST_KEYS")
	if err != nil {
		t.Fatal(err)
	}
	fromFile, _ := LoadKeys(path)
	if !bytes.Equal(k.Session[0], fromFile.Session[0]) || len(k.Token) != 2 {
		t.Error("the environment variable and the file give different keys")
	}
	t.Setenv("KEYCARD_TEST_KEYS", "")
	if _, err := KeysFromEnv("KEYCARD_TEST_KEYS"); err == nil || !strings.Contains(err.Error(), "$KEYCARD_TEST_KEYS is not set") {
		t.Errorf("an empty variable: %v", err)
	}
	t.Setenv("KEYCARD_TEST_KEYS", keyFileHeader+";session "+testKey1+";bogus")
	if _, err := KeysFromEnv("KEYCARD_TEST_KEYS"); err == nil || !strings.Contains(err.Error(), "$KEYCARD_TEST_KEYS: line 1") {
		t.Errorf("a bad variable: %v", err)
	}
}

// TestKeyFileKeepsSessionsAcrossManagers is a restart in miniature: two
// Managers built one after the other from the same key file and store
// accept each other's cookies. (examples/quickstart restarts a whole app
// on SQLite.)
func TestKeyFileKeepsSessionsAcrossManagers(t *testing.T) {
	t.Parallel()
	path := writeKeyFile(t, 0o600)
	st := memory.New(memory.Config{})
	newApp := func() http.Handler {
		keys, err := LoadKeys(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(Config{Store: st, Keys: keys.Session})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
			if err := m.Login(r.Context(), FromContext(r.Context()), "alice"); err != nil {
				t.Error(err)
			}
		})
		mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(FromContext(r.Context()).UserID()))
		})
		return m.Handler(mux)
	}
	first := newApp()
	w := httptest.NewRecorder()
	first.ServeHTTP(w, httptest.NewRequestWithContext(context.Background(), "POST", "https://example.test/login", nil))
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies", len(cookies))
	}
	for name, h := range map[string]http.Handler{"the same app": first, "a restarted app": newApp()} {
		r := httptest.NewRequestWithContext(context.Background(), "GET", "https://example.test/me", nil)
		r.AddCookie(cookies[0])
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Body.String(); got != "alice" {
			t.Errorf("%s: signed in as %q, want alice", name, got)
		}
	}
	// A key file of other keys signs everyone out: the check above is not
	// vacuous.
	other := writeKeyFile(t, 0o600)
	keys, _ := LoadKeys(other)
	m, _ := New(Config{Store: st, Keys: keys.Session})
	r := httptest.NewRequestWithContext(context.Background(), "GET", "https://example.test/me", nil)
	r.AddCookie(cookies[0])
	w = httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).UserID()))
	})).ServeHTTP(w, r)
	if w.Body.String() != "" {
		t.Errorf("an app with other keys accepted the cookie as %q", w.Body.String())
	}
}

func FuzzKeyFile(f *testing.F) {
	f.Add([]byte(keyFileHeader + "\nsession " + testKey1 + "\nrefresh " + testKey2 + "\ntoken k1 " + testKey3 + "\n"))
	f.Add([]byte(keyFileHeader + ";session " + testKey1))
	f.Add([]byte("# comment\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var k KeyFile
		if err := k.UnmarshalText(data); err != nil {
			return
		}
		if len(k.Session) == 0 {
			t.Fatal("accepted a key file without a session key")
		}
		text, err := k.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText of an accepted file: %v", err)
		}
		var again KeyFile
		if err := again.UnmarshalText(text); err != nil {
			t.Fatalf("a marshalled file does not parse: %v", err)
		}
		if len(again.Session) != len(k.Session) || len(again.Token) != len(k.Token) || !bytes.Equal(again.Refresh, k.Refresh) {
			t.Fatal("keys changed in a round trip")
		}
	})
}
