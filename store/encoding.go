package store

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"github.com/keycard-go/keycard/internal/storekit"
)

// recordFormat is the first byte of every encoded record; a new layout gets
// a new value so old records stay readable or are rejected cleanly.
const recordFormat = 0x01

// maxField bounds every length-prefixed field of an encoded record.
const maxField = 16 << 20

// EncodeRecord encodes every field of rec except Version into a compact
// binary form, for stores that keep a record as one value (key-value
// stores). Stores keep the version where they can compare it atomically.
// Times are Unix nanoseconds, 0 for the zero time, clamped to the years
// 1678 to 2262 that int64 nanoseconds can hold, as the SQL stores keep
// them.
func EncodeRecord(rec *Record) []byte {
	b := make([]byte, 0, 64+len(rec.UserID)+len(rec.IP)+len(rec.UserAgent)+len(rec.Data))
	b = append(b, recordFormat)
	var flags byte
	if rec.Persistent {
		flags |= 1
	}
	b = append(b, flags)
	for _, t := range [...]time.Time{rec.Created, rec.LastSeen, rec.AuthTime, rec.Expires, rec.Deadline} {
		b = binary.AppendVarint(b, storekit.Nanos(t))
	}
	for _, s := range [...]string{rec.UserID, rec.IP, rec.UserAgent} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(rec.Data)))
	return append(b, rec.Data...)
}

// DecodeRecord decodes bytes produced by EncodeRecord. The returned record
// has Version 0 and does not alias b. Malformed input gives an error
// wrapping ErrCorrupt.
func DecodeRecord(b []byte) (*Record, error) {
	rec := new(Record)
	if err := DecodeRecordInto(b, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// DecodeRecordInto is DecodeRecord decoding into *rec, for a store's
// LoadRecord (see RecordLoader): it sets every field but Version, which
// it leaves alone, and on an error it leaves *rec as it was.
// It makes one allocation, which the text fields and Data share.
func DecodeRecordInto(b []byte, rec *Record) error {
	d := decoder{b: b}
	if d.byte() != recordFormat {
		return fmt.Errorf("%w: unknown format", ErrCorrupt)
	}
	flags := d.byte()
	out := Record{Version: rec.Version, Persistent: flags&1 != 0}
	out.Created = storekit.FromNanos(d.varint())
	out.LastSeen = storekit.FromNanos(d.varint())
	out.AuthTime = storekit.FromNanos(d.varint())
	out.Expires = storekit.FromNanos(d.varint())
	out.Deadline = storekit.FromNanos(d.varint())
	text := d.b
	user, ip, ua := d.bytes(), d.bytes(), d.bytes()
	textLen := len(text) - len(d.b)
	data := d.bytes()
	if d.err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, d.err)
	}
	if flags&^1 != 0 || len(d.b) != 0 {
		return fmt.Errorf("%w: trailing or unknown fields", ErrCorrupt)
	}
	// The three text fields sit next to each other. One allocation holds
	// them and then Data: each field is a string over part of its head,
	// Data is its tail. That is sound because nothing writes to the head
	// once this returns: the only slice of the buffer that escapes is
	// Data, which starts after the head, and whose capacity ends with the
	// buffer, so that an append copies it. A kept string keeps Data's
	// memory alive, and the reverse.
	if textLen+len(data) > 0 {
		buf := make([]byte, textLen+len(data))
		copy(buf, text[:textLen])
		copy(buf[textLen:], data)
		var all string
		if textLen > 0 {
			all = unsafe.String(&buf[0], textLen)
		}
		out.UserID = substring(all, text, user)
		out.IP = substring(all, text, ip)
		out.UserAgent = substring(all, text, ua)
		if len(data) > 0 {
			out.Data = buf[textLen:len(buf):len(buf)]
		}
	}
	*rec = out
	return nil
}

// decoder reads an encoded record, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("truncated %s", what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("header")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("time")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > maxField || n > uint64(len(d.b)-k) {
		d.fail("field")
		return nil
	}
	v := d.b[k : k+int(n)]
	d.b = d.b[k+int(n):]
	return v
}

// substring returns the part of all that field is of base: all is a copy
// of a prefix of base, and field a subslice of that prefix, sharing base's
// array, so its offset is the difference of their capacities.
func substring(all string, base, field []byte) string {
	off := cap(base) - cap(field)
	return all[off : off+len(field)]
}
