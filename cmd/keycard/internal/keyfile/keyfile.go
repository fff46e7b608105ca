// Package keyfile reads and writes Keycard key files: the secrets that sign
// session cookies and tokens, kept in one small text file so that sessions
// survive restarts and every instance shares them.
//
// A key file is UTF-8 text. Its first line is "keycard-keys v1"; after it,
// blank lines and lines starting with '#' are ignored, and every other line
// is a kind and its fields, separated by spaces:
//
//	session KEY      signs session cookies (keycard.Config.Keys), sealed
//	                 ones too; one or more, newest first: the first signs,
//	                 every one verifies, so a key is rotated by adding a new
//	                 line in front and deleting the old one later
//	refresh KEY      authenticates refresh tokens (token.Config.RefreshKey);
//	                 exactly one
//	token KID SEED   an Ed25519 access-token key (token.Config.Keys) with key
//	                 ID KID ([A-Za-z0-9._-], at most 64 characters); one or
//	                 more: the first signs, the others verify the tokens
//	                 they signed until those expire
//
// KEY and SEED are 32 random bytes in unpadded base64url (43 characters).
// A file that others than its owner may read is refused (chmod 600).
package keyfile

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/token"
)

// Header is the first line of every key file of this version.
const Header = "keycard-keys v1"

// keySize is the size of every key and seed.
const keySize = 32

var b64 = base64.RawURLEncoding.Strict()

// Keys are the contents of a key file.
type Keys struct {
	// Session keys sign session cookies, newest first.
	Session []keycard.Key
	// Refresh authenticates refresh tokens.
	Refresh keycard.Key
	// Token keys sign access tokens; the first signs.
	Token []TokenKey
}

// A TokenKey is an Ed25519 access-token key.
type TokenKey struct {
	ID   string
	Seed []byte
}

// ErrInsecure is wrapped by Load's error for a file that others may read.
var ErrInsecure = errors.New("key file is readable by others")

// Generate returns new random keys: one of each kind.
func Generate(now time.Time) *Keys {
	var tag [3]byte
	rand.Read(tag[:])
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	return &Keys{
		Session: []keycard.Key{keycard.NewKey()},
		Refresh: keycard.NewKey(),
		Token:   []TokenKey{{ID: now.UTC().Format("20060102") + "-" + hex.EncodeToString(tag[:]), Seed: seed}},
	}
}

// Marshal returns k in the key-file format, with explanatory comments.
func (k *Keys) Marshal(now time.Time) []byte {
	var b bytes.Buffer
	fmt.Fprintln(&b, Header)
	fmt.Fprintf(&b, `# Keycard keys, created %s by "keycard keys new".
# SECRET: whoever reads this file can forge sessions and tokens.
# Keep it mode 0600, out of version control and backups you share.
#
# session KEY     signs session cookies; newest first, the first signs
# refresh KEY     authenticates refresh tokens; exactly one
# token KID SEED  Ed25519 access-token key; the first signs
`, now.UTC().Format(time.RFC3339))
	for _, s := range k.Session {
		fmt.Fprintf(&b, "session %s\n", b64.EncodeToString(s))
	}
	fmt.Fprintf(&b, "refresh %s\n", b64.EncodeToString(k.Refresh))
	for _, t := range k.Token {
		fmt.Fprintf(&b, "token %s %s\n", t.ID, b64.EncodeToString(t.Seed))
	}
	return b.Bytes()
}

// Parse reads a key file. Its errors name the line, never a key.
func Parse(data []byte) (*Keys, error) {
	k := &Keys{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	seen := map[string]bool{}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			if text != Header {
				return nil, fmt.Errorf("line 1: want %q, the header of a key file", Header)
			}
			continue
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		bad := func(format string, args ...any) error {
			return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
		}
		key := func(s string) ([]byte, error) {
			raw, err := b64.DecodeString(s)
			if err != nil || len(raw) != keySize {
				return nil, bad("%s: want %d bytes in unpadded base64url", f[0], keySize)
			}
			if seen[string(raw)] {
				return nil, bad("%s: the same key appears twice", f[0])
			}
			seen[string(raw)] = true
			return raw, nil
		}
		switch f[0] {
		case "session", "refresh":
			if len(f) != 2 {
				return nil, bad("want %q", f[0]+" KEY")
			}
			raw, err := key(f[1])
			if err != nil {
				return nil, err
			}
			if f[0] == "session" {
				k.Session = append(k.Session, keycard.Key(raw))
				break
			}
			if k.Refresh != nil {
				return nil, bad("a second refresh key; there must be exactly one")
			}
			k.Refresh = keycard.Key(raw)
		case "token":
			if len(f) != 3 {
				return nil, bad(`want "token KID SEED"`)
			}
			if !validKeyID(f[1]) {
				return nil, bad("token: key ID must be 1 to 64 characters of [A-Za-z0-9._-]")
			}
			for _, t := range k.Token {
				if t.ID == f[1] {
					return nil, bad("token: key ID %q appears twice", f[1])
				}
			}
			raw, err := key(f[2])
			if err != nil {
				return nil, err
			}
			k.Token = append(k.Token, TokenKey{ID: f[1], Seed: raw})
		default:
			return nil, bad("unknown kind %q; want session, refresh or token", f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	switch {
	case line == 0:
		return nil, errors.New("empty file")
	case len(k.Session) == 0:
		return nil, errors.New("no session key")
	case k.Refresh == nil:
		return nil, errors.New("no refresh key")
	case len(k.Token) == 0:
		return nil, errors.New("no token key")
	}
	return k, nil
}

func validKeyID(s string) bool {
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

// Load reads the key file at path. It refuses a file that group or others
// may read or write (on systems with Unix permissions).
func Load(path string) (*Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: %w (mode %04o)", path, ErrInsecure, fi.Mode().Perm())
	}
	data, err := readAll(f, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	k, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func readAll(f *os.File, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errors.New("too large for a key file")
	}
	return data, nil
}

// Write writes data, a marshalled key file, to a new file at path with
// mode 0600. It refuses to
// replace an existing file (fs.ErrExist) unless force is set, in which
// case the file is replaced atomically.
func Write(path string, data []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			os.Remove(path)
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			os.Remove(path)
			return err
		}
		return f.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keycard-keys-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// TokenKeys returns the token keys as a token.KeySet: the first key is
// current, the others previous (verifying the tokens they signed until
// those expire).
func (k *Keys) TokenKeys() (*token.KeySet, error) {
	var set *token.KeySet
	for i, t := range k.Token {
		pk, err := token.NewPrivateKey(t.ID, ed25519.NewKeyFromSeed(t.Seed))
		if err != nil {
			return nil, err
		}
		if i == 0 {
			if set, err = token.NewKeySet(pk); err != nil {
				return nil, err
			}
			continue
		}
		if err := set.AddPrevious(pk); err != nil {
			return nil, err
		}
	}
	if set == nil {
		return nil, errors.New("no token key")
	}
	return set, nil
}
