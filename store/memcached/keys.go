package memcached

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// itemKey returns the memcached key of the record stored under key.
//
// The Manager's keys, 64 lowercase hex digits, are used as they are, after
// the prefix. Any other key (store keys are opaque, and memcached keys
// cannot hold spaces or control characters, nor exceed 250 bytes) is
// replaced by "#" and the hex SHA-256 digest of it: "#" is not a hex
// digit, so a hashed key never equals a verbatim one.
func (s *Store) itemKey(key string) string {
	if isHexDigest(key) {
		return s.prefix + key
	}
	sum := sha256.Sum256([]byte(key))
	return s.prefix + "#" + hex.EncodeToString(sum[:])
}

// isHexDigest reports whether key is 1 to 64 lowercase hex digits.
func isHexDigest(key string) bool {
	if len(key) == 0 || len(key) > 2*sha256.Size {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// chunkKey returns the key of chunk i of a record whose item key is main
// and whose chunks were written with nonce. The ":" after main keeps chunk
// keys apart from item keys, which hold none after the prefix.
func chunkKey(main string, nonce uint64, i int) string {
	b := make([]byte, 0, len(main)+1+16+1+4)
	b = append(b, main...)
	b = append(b, ':')
	b = strconv.AppendUint(b, nonce, 16)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(i), 10)
	return string(b)
}
