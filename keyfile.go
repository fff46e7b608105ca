package keycard

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// KeyFile is the content of a Keycard key file: the secrets that sign
// session cookies and tokens, kept outside the program so that sessions
// survive a restart and every instance shares them. "keycard keys new"
// writes one; LoadKeys and KeysFromEnv read one.
//
// A key file is text. Its first line is "keycard-keys v1"; after it,
// blank lines and lines starting with '#' are ignored, and every other
// line is a kind and its fields, separated by spaces:
//
//	session KEY      signs session cookies (Config.Keys); one or more,
//	                 newest first: the first signs, every one verifies, so
//	                 a key is rotated by adding a line in front and
//	                 deleting the old one once its sessions have expired
//	refresh KEY      authenticates refresh tokens; at most one
//	token KID SEED   an Ed25519 access-token key with key ID KID
//	                 ([A-Za-z0-9._-], at most 64 characters); the first
//	                 signs, the others verify the tokens they signed
//
// KEY and SEED are 32 random bytes in unpadded base64url (43 characters).
// Where a line break is awkward, as in an environment file, ';' also ends
// a line: "keycard-keys v1;session KEY". A file holding only session keys
// serves an application that issues no tokens.
type KeyFile struct {
	// Session keys sign session cookies, newest first: pass them as
	// Config.Keys.
	Session []Key
	// Refresh authenticates refresh tokens (the token package's
	// Config.RefreshKey), or is nil.
	Refresh Key
	// Token are the access-token signing keys, newest first.
	Token []TokenKey
}

// TokenKey is an Ed25519 access-token key of a KeyFile: a key ID and the
// 32-byte seed of the private key.
type TokenKey struct {
	ID   string
	Seed Key
}

// keyFileHeader is the first line of every key file of this version.
const keyFileHeader = "keycard-keys v1"

// maxKeyFile bounds what LoadKeys reads: a key file is a few hundred
// bytes, and a larger file is a mistake.
const maxKeyFile = 1 << 20

var keyFileEncoding = base64.RawURLEncoding.Strict()

// LoadKeys reads the key file at path. It refuses a file that its group or
// others may read or write (on systems with Unix permissions): a key file
// lets whoever reads it sign in as anyone. Its errors name the file and the
// line, never a key.
//
//	keys, err := keycard.LoadKeys("/etc/myapp/keycard.keys")
//	...
//	m, err := keycard.New(keycard.Config{Store: st, Keys: keys.Session})
func LoadKeys(path string) (*KeyFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keycard: keys: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keycard: keys: %w", err)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("keycard: keys: %s: readable by others (mode %04o); make it private with chmod 600", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("keycard: keys: %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("keycard: keys: %s: larger than %d bytes: not a key file", path, maxKeyFile)
	}
	k := new(KeyFile)
	if err := k.UnmarshalText(data); err != nil {
		return nil, fmt.Errorf("keycard: keys: %s: %w", path, err)
	}
	return k, nil
}

// KeysFromEnv reads a key file's content from the environment variable
// name, for platforms that hand secrets to a program that way:
//
//	export MYAPP_KEYS="$(cat prod.keys)"
//
// or, on one line, "keycard-keys v1;session KEY;...". Its errors name the
// variable, never a key.
func KeysFromEnv(name string) (*KeyFile, error) {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("keycard: keys: $%s is not set; it must hold a key file (keycard keys new --out -)", name)
	}
	k := new(KeyFile)
	if err := k.UnmarshalText([]byte(v)); err != nil {
		return nil, fmt.Errorf("keycard: keys: $%s: %w", name, err)
	}
	return k, nil
}

// MarshalText returns k in the key file format, with comments that say
// what each kind of line does. It reports an error for a KeyFile that
// UnmarshalText would refuse.
func (k *KeyFile) MarshalText() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintln(&b, keyFileHeader)
	b.WriteString(`# Keycard keys. SECRET: whoever reads this file can forge sessions and
# tokens. Keep it mode 0600, out of version control and shared backups.
#
# session KEY     signs session cookies; newest first, the first signs
# refresh KEY     authenticates refresh tokens
# token KID SEED  Ed25519 access-token key; the first signs
`)
	for _, s := range k.Session {
		fmt.Fprintf(&b, "session %s\n", keyFileEncoding.EncodeToString(s))
	}
	if k.Refresh != nil {
		fmt.Fprintf(&b, "refresh %s\n", keyFileEncoding.EncodeToString(k.Refresh))
	}
	for _, t := range k.Token {
		fmt.Fprintf(&b, "token %s %s\n", t.ID, keyFileEncoding.EncodeToString(t.Seed))
	}
	var check KeyFile
	if err := check.UnmarshalText(b.Bytes()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// UnmarshalText parses a key file into k. It refuses a file without a
// session key, a key that is not 32 bytes of unpadded base64url, a key
// that appears twice, a second refresh key and an unknown kind of line.
func (k *KeyFile) UnmarshalText(data []byte) error {
	var out KeyFile
	seen := map[string]bool{}
	line, items := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") {
			continue
		}
		for item := range strings.SplitSeq(text, ";") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			items++
			if err := out.parseLine(item, items == 1, seen); err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	switch {
	case items == 0:
		return errors.New("empty key file")
	case len(out.Session) == 0:
		return errors.New("no session key")
	}
	*k = out
	return nil
}

// parseLine adds one line of a key file to k. first says whether it is
// the file's first line, which must be the header.
func (k *KeyFile) parseLine(text string, first bool, seen map[string]bool) error {
	if first {
		if text != keyFileHeader {
			return fmt.Errorf("want %q, the first line of a key file", keyFileHeader)
		}
		return nil
	}
	f := strings.Fields(text)
	key := func(s string) (Key, error) {
		raw, err := keyFileEncoding.DecodeString(s)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("%s: want 32 bytes in unpadded base64url", f[0])
		}
		if seen[string(raw)] {
			return nil, fmt.Errorf("%s: the same key appears twice", f[0])
		}
		seen[string(raw)] = true
		return raw, nil
	}
	switch f[0] {
	case "session", "refresh":
		if len(f) != 2 {
			return fmt.Errorf("want %q", f[0]+" KEY")
		}
		raw, err := key(f[1])
		if err != nil {
			return err
		}
		if f[0] == "session" {
			k.Session = append(k.Session, raw)
			return nil
		}
		if k.Refresh != nil {
			return errors.New("a second refresh key; there is at most one")
		}
		k.Refresh = raw
	case "token":
		if len(f) != 3 {
			return errors.New(`want "token KID SEED"`)
		}
		if !validTokenKeyID(f[1]) {
			return errors.New("token: the key ID must be 1 to 64 characters of [A-Za-z0-9._-]")
		}
		for _, t := range k.Token {
			if t.ID == f[1] {
				return fmt.Errorf("token: key ID %q appears twice", f[1])
			}
		}
		raw, err := key(f[2])
		if err != nil {
			return err
		}
		k.Token = append(k.Token, TokenKey{ID: f[1], Seed: raw})
	default:
		return fmt.Errorf("unknown kind %q; want session, refresh or token", f[0])
	}
	return nil
}

func validTokenKeyID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
