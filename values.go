package keycard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// A session's values are stored as one envelope:
//
//	format byte, uvarint count, then count × (uvarint key length, key,
//	uvarint value length, value), keys in strictly increasing order
//
// where each value is encoded by the Codec on its own. A loaded session
// keeps the envelope as it is and looks keys up in it without copying; only
// a change turns it into a map. Values decode lazily, one key at a time,
// into the type the caller asks for.
const valuesFormat = 1

// entryOverhead approximates the envelope bytes per entry besides the key
// and value themselves, for size accounting.
const entryOverhead = 4

// maxEntries bounds the number of keys a stored envelope may hold.
const maxEntries = 1 << 16

var errEnvelope = errors.New("keycard: malformed session values")

// encodeValues encodes vals into an envelope.
func encodeValues(vals map[string][]byte) []byte {
	if len(vals) == 0 {
		return nil
	}
	size := 1 + binary.MaxVarintLen32
	keys := make([]string, 0, len(vals))
	for k, raw := range vals {
		keys = append(keys, k)
		size += len(k) + len(raw) + 2*binary.MaxVarintLen32
	}
	sort.Strings(keys)
	b := make([]byte, 0, size)
	b = append(b, valuesFormat)
	b = binary.AppendUvarint(b, uint64(len(vals)))
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(vals[k])))
		b = append(b, vals[k]...)
	}
	return b
}

// envelope iterates over an encoded envelope.
type envelope struct {
	b    []byte
	left uint64
}

// openEnvelope starts iterating over b. An empty b is an empty envelope.
func openEnvelope(b []byte) (envelope, error) {
	if len(b) == 0 {
		return envelope{}, nil
	}
	if b[0] != valuesFormat {
		return envelope{}, fmt.Errorf("%w: unknown format %d", errEnvelope, b[0])
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > maxEntries || n > uint64(len(b)) {
		return envelope{}, fmt.Errorf("%w: bad entry count", errEnvelope)
	}
	return envelope{b: b[1+k:], left: n}, nil
}

// next returns the next entry, or ok == false at the end or on damage.
func (e *envelope) next() (key, raw []byte, ok bool) {
	if e.left == 0 {
		return nil, nil, false
	}
	key, rest, ok1 := field(e.b)
	raw, rest, ok2 := field(rest)
	if !ok1 || !ok2 {
		e.left = 0
		return nil, nil, false
	}
	e.b, e.left = rest, e.left-1
	return key, raw, true
}

// checkValues validates an envelope without allocating, and returns its
// accounted size.
func checkValues(b []byte) (int, error) {
	size, _, err := inspectValues(b)
	return size, err
}

// inspectValues is checkValues that also returns, from the same pass, the
// reserved keys a load acts on (see scanReserved).
func inspectValues(b []byte) (int, reserved, error) {
	var r reserved
	env, err := openEnvelope(b)
	if err != nil {
		return 0, r, err
	}
	size, n := 0, env.left
	var prev []byte
	for i := uint64(0); i < n; i++ {
		key, raw, ok := env.next()
		if !ok {
			return 0, r, fmt.Errorf("%w: truncated entry", errEnvelope)
		}
		if i > 0 && string(prev) >= string(key) {
			return 0, r, fmt.Errorf("%w: keys out of order", errEnvelope)
		}
		prev = key
		size += len(key) + len(raw) + entryOverhead
		r.note(key, raw)
	}
	if len(env.b) != 0 {
		return 0, r, fmt.Errorf("%w: trailing bytes", errEnvelope)
	}
	return size, r, nil
}

// lookupValue finds key in a valid envelope.
func lookupValue(b []byte, key string) ([]byte, bool) {
	env, _ := openEnvelope(b)
	for {
		k, raw, ok := env.next()
		if !ok || string(k) > key {
			return nil, false
		}
		if string(k) == key {
			return raw, true
		}
	}
}

// decodeValues turns a valid envelope into a map. The values alias b.
func decodeValues(b []byte) map[string][]byte {
	env, _ := openEnvelope(b)
	vals := make(map[string][]byte, env.left)
	for {
		k, raw, ok := env.next()
		if !ok {
			return vals
		}
		vals[string(k)] = raw
	}
}

// field splits a length-prefixed field off b.
func field(b []byte) (f, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}
