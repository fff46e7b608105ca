package core

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
)

// A record's value is one Redis string: a fixed binary header that the Lua
// scripts read with GETRANGE and patch with SETRANGE, the user ID, and the
// record as store.EncodeRecord encodes it. Integers are big-endian; times
// are Unix nanoseconds, 0 for the zero time, clamped to the years 1678 to
// 2262 (storekit.Nanos, as in store.EncodeRecord).
// The header's expires, deadline and last-seen fields are authoritative:
// Touch rewrites them in place, so the copies inside the encoded record may
// be older.
//
//	offset size field
//	     0    1 format ('K')
//	     1    8 version (uint64)
//	     9    8 expires (int64 ns)
//	    17    8 deadline (int64 ns)
//	    25    8 last seen (int64 ns)
//	    33    8 deadline in Unix ms, rounded up (int64): the cap on PEXPIREAT
//	    41    8 index token (uint64): the version at which the record was
//	            added to its user's index, 0 when anonymous
//	    49    4 length of the user ID (uint32)
//	    53    n user ID
//	  53+n    … store.EncodeRecord(rec)
//
// The scripts in scripts.go hard-code these offsets (one-based in Lua).
const (
	formatByte   = 'K'
	offVersion   = 1
	offExpires   = 9
	offDeadline  = 17
	offLastSeen  = 25
	offDeadlineM = 33
	offToken     = 41
	offUserLen   = 49
	headerLen    = 53
)

// header is the decoded fixed part of a value.
type header struct {
	version  uint64
	expires  int64
	deadline int64
	lastSeen int64
	token    uint64
	user     []byte
}

// encodeValue returns the value stored for rec with the given version and
// index token.
func encodeValue(rec *store.Record, version, token uint64) []byte {
	blob := store.EncodeRecord(rec)
	b := make([]byte, headerLen, headerLen+len(rec.UserID)+len(blob))
	b[0] = formatByte
	binary.BigEndian.PutUint64(b[offVersion:], version)
	binary.BigEndian.PutUint64(b[offExpires:], uint64(storekit.Nanos(rec.Expires)))
	binary.BigEndian.PutUint64(b[offDeadline:], uint64(storekit.Nanos(rec.Deadline)))
	binary.BigEndian.PutUint64(b[offLastSeen:], uint64(storekit.Nanos(rec.LastSeen)))
	binary.BigEndian.PutUint64(b[offDeadlineM:], uint64(ceilMillis(rec.Deadline)))
	binary.BigEndian.PutUint64(b[offToken:], token)
	binary.BigEndian.PutUint32(b[offUserLen:], uint32(len(rec.UserID)))
	b = append(b, rec.UserID...)
	return append(b, blob...)
}

// setToken overwrites the index token of an encoded value.
func setToken(b []byte, token uint64) {
	binary.BigEndian.PutUint64(b[offToken:], token)
}

// decodeHeader decodes the fixed part of a value and the user ID, and
// returns the rest (the encoded record).
func decodeHeader(b []byte) (header, []byte, error) {
	if len(b) < headerLen || b[0] != formatByte {
		return header{}, nil, fmt.Errorf("%w: not a keycard record value", store.ErrCorrupt)
	}
	h := header{
		version:  binary.BigEndian.Uint64(b[offVersion:]),
		expires:  int64(binary.BigEndian.Uint64(b[offExpires:])),
		deadline: int64(binary.BigEndian.Uint64(b[offDeadline:])),
		lastSeen: int64(binary.BigEndian.Uint64(b[offLastSeen:])),
		token:    binary.BigEndian.Uint64(b[offToken:]),
	}
	n := uint64(binary.BigEndian.Uint32(b[offUserLen:]))
	if n > uint64(len(b)-headerLen) {
		return header{}, nil, fmt.Errorf("%w: truncated user ID", store.ErrCorrupt)
	}
	h.user = b[headerLen : headerLen+n]
	return h, b[headerLen+n:], nil
}

// decodeValue decodes a whole value into a record and its index token.
func decodeValue(b []byte) (*store.Record, uint64, error) {
	rec := new(store.Record)
	token, err := decodeValueInto(b, rec)
	if err != nil {
		return nil, 0, err
	}
	return rec, token, nil
}

// decodeValueInto decodes a whole value into *rec and returns the value's
// index token. On an error *rec may be partly written: its callers decode
// into a record of their own, which spares a copy of it per load.
func decodeValueInto(b []byte, rec *store.Record) (uint64, error) {
	h, blob, err := decodeHeader(b)
	if err != nil {
		return 0, err
	}
	if err := store.DecodeRecordInto(blob, rec); err != nil {
		return 0, err
	}
	if rec.UserID != string(h.user) {
		return 0, fmt.Errorf("%w: user ID in header and record differ", store.ErrCorrupt)
	}
	rec.Version = h.version
	rec.Expires = storekit.FromNanos(h.expires)
	rec.Deadline = storekit.FromNanos(h.deadline)
	rec.LastSeen = storekit.FromNanos(h.lastSeen)
	return h.token, nil
}

// nanoBytes returns t's nanoseconds as the 8 big-endian bytes the scripts
// compare with stored times.
func nanoBytes(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(storekit.Nanos(t)))
	return string(b[:])
}

// versionBytes returns v as 8 big-endian bytes, as the header stores it.
func versionBytes(v uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return string(b[:])
}

// ceilMillis returns t in Unix milliseconds, rounded up, so that an expiry
// at that millisecond is never before t.
func ceilMillis(t time.Time) int64 {
	n := storekit.Nanos(t)
	ms := n / 1e6 // truncation rounds negative values up already
	if n%1e6 > 0 {
		ms++
	}
	return ms
}

// floorMillis returns t in Unix milliseconds, rounded down.
func floorMillis(t time.Time) int64 {
	n := storekit.Nanos(t)
	ms := n / 1e6
	if n%1e6 < 0 {
		ms--
	}
	return ms
}

// expireAt returns the PXAT argument for a record: the first millisecond
// at which it is dead everywhere, at least 1 (Redis rejects 0), which
// Redis treats as already past.
func expireAt(rec *store.Record) string {
	limit := rec.Expires
	if rec.Deadline.Before(limit) {
		limit = rec.Deadline
	}
	return strconv.FormatInt(max(ceilMillis(limit), 1), 10)
}

// recordKey is the Redis key of the record stored under key.
func (s *Store) recordKey(key string) string {
	return s.prefix + "s:" + key
}

// indexKey is the Redis key of user's index: a sorted set whose hash tag
// is the escaped user ID, so that Redis Cluster keeps each index whole on
// one node and spreads users across the cluster.
func (s *Store) indexKey(user string) string {
	return s.prefix + "u:{" + userEscaper.Replace(user) + "}"
}

// userEscaper escapes the characters that would end a hash tag early, or
// make two user IDs share an index key.
var userEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

// member is the index member for the record under key indexed at token:
// the key, compacted to base64 when it is a 64-digit lowercase hex digest
// (as every key the Manager makes is, which keeps members within Redis's
// compact listpack encoding), then a dot and the token in decimal.
func member(key string, token uint64) string {
	// 43 base64 digits or '~' and the key, a dot, at most 20 digits
	b := appendStem(make([]byte, 0, len(key)+22), key)
	return string(strconv.AppendUint(b, token, 10))
}

// memberStem is member without the token: the part of a record's index
// members that names its key, up to and including the dot.
func memberStem(key string) string {
	return string(appendStem(make([]byte, 0, len(key)+2), key))
}

// appendStem appends memberStem(key) to b.
func appendStem(b []byte, key string) []byte {
	if storekit.ValidHash(key) {
		var raw [32]byte
		hex.Decode(raw[:], []byte(key))
		b = base64.RawURLEncoding.AppendEncode(b, raw[:])
	} else {
		b = append(append(b, '~'), key...)
	}
	return append(b, '.')
}

// parseMember reverses member. It reports false for a member it did not
// make.
func parseMember(m string) (key string, token uint64, ok bool) {
	dot := strings.LastIndexByte(m, '.')
	if dot < 0 {
		return "", 0, false
	}
	token, err := strconv.ParseUint(m[dot+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	k := m[:dot]
	if raw, ok := strings.CutPrefix(k, "~"); ok {
		return raw, token, true
	}
	raw, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil || len(raw) != 32 {
		return "", 0, false
	}
	return hex.EncodeToString(raw), token, true
}
