package keycard

import (
	"encoding/binary"
	"math"
	"reflect"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// A Codec encodes and decodes single session values. Marshal must produce
// bytes that Unmarshal turns back into an equal value of the same Go type;
// Unmarshal must be safe on untrusted bytes (bounded allocation, no
// arbitrary type instantiation). Implementations must be safe for
// concurrent use.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// defaultCodec is the Codec of a Config that names none: CBOR (RFC 8949)
// that round-trips Go types faithfully (integers stay integers, times keep
// their nanoseconds) and decodes with strict limits: 16 levels of nesting,
// 64 Ki array elements and map pairs, no indefinite lengths, duplicate map
// keys and invalid UTF-8 rejected. Values decoded into an interface type
// become map[string]any for maps.
var defaultCodec = newCBORCodec()

type cborCodec struct {
	enc cbor.EncMode
	dec cbor.DecMode
}

func newCBORCodec() *cborCodec {
	enc, err := cbor.EncOptions{
		Time:    cbor.TimeRFC3339Nano,
		TimeTag: cbor.EncTagRequired,
	}.EncMode()
	if err != nil {
		panic("keycard: cbor encoder: " + err.Error())
	}
	dec, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  16,
		MaxArrayElements: 64 << 10,
		MaxMapPairs:      64 << 10,
		IndefLength:      cbor.IndefLengthForbidden,
		IntDec:           cbor.IntDecConvertSignedOrFail,
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
		UTF8:             cbor.UTF8RejectInvalid,
		TimeTag:          cbor.DecTagOptional,
	}.DecMode()
	if err != nil {
		panic("keycard: cbor decoder: " + err.Error())
	}
	return &cborCodec{enc: enc, dec: dec}
}

func (c *cborCodec) Marshal(v any) ([]byte, error) {
	if b, ok := encodeCommon(v); ok {
		return b, nil
	}
	return c.enc.Marshal(v)
}

func (c *cborCodec) Unmarshal(data []byte, v any) error {
	if decodeCommon(data, v) {
		return nil
	}
	return c.dec.Unmarshal(data, v)
}

// The default codec's common values (a string, an int, an int64, a bool)
// are encoded and decoded here without the CBOR library's reflection,
// byte for byte as the library does (FuzzCodecFastPaths checks it); any
// other value or encoding takes the library's path.

// decodeCommon decodes data into v, a *string, *int, *int64 or *bool,
// when data is one such item, whole and well formed, and reports whether
// it did. v does not escape, so a caller's variable stays on its stack.
func decodeCommon(data []byte, v any) bool {
	major, arg, rest, ok := cborHead(data)
	if !ok {
		return false
	}
	switch p := v.(type) {
	case *string:
		if major != 3 || arg != uint64(len(rest)) || !utf8.Valid(rest) {
			return false
		}
		*p = string(rest)
	case *int64:
		n, ok := cborInt(major, arg, rest)
		if !ok {
			return false
		}
		*p = n
	case *int:
		n, ok := cborInt(major, arg, rest)
		if !ok || int64(int(n)) != n {
			return false
		}
		*p = int(n)
	case *bool:
		if len(data) != 1 || (data[0] != 0xf4 && data[0] != 0xf5) {
			return false
		}
		*p = data[0] == 0xf5
	default:
		return false
	}
	return true
}

// cborInt returns the integer an item of major type 0 or 1 with argument
// arg encodes, if it fits an int64 and nothing follows it.
func cborInt(major byte, arg uint64, rest []byte) (int64, bool) {
	if len(rest) != 0 || arg > math.MaxInt64 {
		return 0, false
	}
	switch major {
	case 0:
		return int64(arg), true
	case 1:
		return -1 - int64(arg), true
	}
	return 0, false
}

// cborHead splits a CBOR data item into its head, major type and argument,
// and what follows; ok is false for an empty or truncated head, or a
// reserved or indefinite length.
func cborHead(data []byte) (major byte, arg uint64, rest []byte, ok bool) {
	if len(data) == 0 {
		return 0, 0, nil, false
	}
	major, info, data := data[0]>>5, data[0]&0x1f, data[1:]
	size := 0
	switch {
	case info < 24:
		return major, uint64(info), data, true
	case info == 24:
		size = 1
	case info == 25:
		size = 2
	case info == 26:
		size = 4
	case info == 27:
		size = 8
	default:
		return 0, 0, nil, false
	}
	if len(data) < size {
		return 0, 0, nil, false
	}
	for _, b := range data[:size] {
		arg = arg<<8 | uint64(b)
	}
	return major, arg, data[size:], true
}

// encodeCommon returns v encoded, if v is a string, an int, an int64 or a
// bool.
func encodeCommon(v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return append(appendHead(make([]byte, 0, 9+len(v)), 3, uint64(len(v))), v...), true
	case int:
		return appendInt(int64(v)), true
	case int64:
		return appendInt(v), true
	case bool:
		if v {
			return []byte{0xf5}, true
		}
		return []byte{0xf4}, true
	}
	return nil, false
}

func appendInt(n int64) []byte {
	b := make([]byte, 0, 9)
	if n < 0 {
		return appendHead(b, 1, uint64(-1-n))
	}
	return appendHead(b, 0, uint64(n))
}

// appendHead appends the shortest head of an item of type major with
// argument n.
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= math.MaxUint8:
		return append(b, m|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}
