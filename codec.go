package keycard

import (
	"reflect"

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

func (c *cborCodec) Marshal(v any) ([]byte, error) { return c.enc.Marshal(v) }

func (c *cborCodec) Unmarshal(data []byte, v any) error { return c.dec.Unmarshal(data, v) }
