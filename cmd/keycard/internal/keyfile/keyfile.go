// Package keyfile writes Keycard key files for the keycard command: new
// random keys in the format that keycard.LoadKeys reads (documented on
// keycard.KeyFile), written with mode 0600 and never over an existing file
// by accident.
package keyfile

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"time"

	"github.com/keycard-go/keycard"
)

// Generate returns new random keys: one of each kind. The token key's ID
// is the date and a random tag, so rotated keys sort by age.
func Generate(now time.Time) *keycard.KeyFile {
	var tag [3]byte
	rand.Read(tag[:])
	return &keycard.KeyFile{
		Session: []keycard.Key{keycard.NewKey()},
		Refresh: keycard.NewKey(),
		Token:   []keycard.TokenKey{{ID: now.UTC().Format("20060102") + "-" + hex.EncodeToString(tag[:]), Seed: keycard.NewKey()}},
	}
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
