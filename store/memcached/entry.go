package memcached

import (
	"encoding/binary"
	"fmt"

	"github.com/keycard-go/keycard/store"
)

// Layouts of a record's item, in the byte after the version.
const (
	// layoutInline: the rest of the value is store.EncodeRecord of the
	// whole record.
	layoutInline = 'i'

	// layoutChunked: the rest is the chunk nonce (8 bytes, big-endian),
	// the number of chunks and the data's length (uvarints), then
	// store.EncodeRecord of the record without its data, which is in the
	// chunk items.
	layoutChunked = 'c'

	// headerLen is the length of the version and the layout byte.
	headerLen = 9

	// maxChunks bounds the chunk count a stored record may claim:
	// store.EncodeRecord allows 16 MiB of data, which needs fewer than
	// 5,000 chunks at the smallest Config.MaxItemSize.
	maxChunks = 1 << 13
)

// entry is what a record's item holds: the logical version, the record
// and, for a record too large for one item, where its data lies.
type entry struct {
	version uint64
	rec     *store.Record // rec.Data is nil when chunks.count > 0
	chunks  chunkRef
}

// chunkRef names the items that hold a large record's data: count items
// of at most the chunk size, written under chunkKey(main, nonce, i), whose
// values add up to size bytes. The zero chunkRef means the data is inline.
type chunkRef struct {
	nonce uint64
	count int
	size  int
}

// encode returns the item value of e.
func (e *entry) encode() []byte {
	rec := e.rec
	if e.chunks.count > 0 {
		meta := *rec
		meta.Data = nil
		rec = &meta
	}
	body := store.EncodeRecord(rec)
	b := make([]byte, headerLen, headerLen+8+2*binary.MaxVarintLen64+len(body))
	binary.BigEndian.PutUint64(b, e.version)
	if e.chunks.count == 0 {
		b[8] = layoutInline
	} else {
		b[8] = layoutChunked
		b = binary.BigEndian.AppendUint64(b, e.chunks.nonce)
		b = binary.AppendUvarint(b, uint64(e.chunks.count))
		b = binary.AppendUvarint(b, uint64(e.chunks.size))
	}
	return append(b, body...)
}

// decodeEntry decodes an item value made by encode. Malformed input gives
// an error wrapping store.ErrCorrupt.
func decodeEntry(b []byte) (*entry, error) {
	e, err := decodeEntryInto(b, new(store.Record))
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// decodeEntryInto is decodeEntry decoding the record into *rec, which the
// entry's rec points to; on an error, *rec may have changed.
func decodeEntryInto(b []byte, rec *store.Record) (entry, error) {
	if len(b) < headerLen {
		return entry{}, fmt.Errorf("%w: item of %d bytes has no header", store.ErrCorrupt, len(b))
	}
	e := entry{version: binary.BigEndian.Uint64(b)}
	if e.version == 0 {
		return entry{}, fmt.Errorf("%w: version 0 stored", store.ErrCorrupt)
	}
	layout, body := b[8], b[headerLen:]
	switch layout {
	case layoutInline:
	case layoutChunked:
		if len(body) < 8 {
			return entry{}, fmt.Errorf("%w: truncated chunk reference", store.ErrCorrupt)
		}
		e.chunks.nonce, body = binary.BigEndian.Uint64(body), body[8:]
		count, n := binary.Uvarint(body)
		if n <= 0 || count == 0 || count > maxChunks {
			return entry{}, fmt.Errorf("%w: bad chunk count", store.ErrCorrupt)
		}
		body = body[n:]
		size, n := binary.Uvarint(body)
		if n <= 0 || size < count || size > uint64(count)*(1<<24) {
			return entry{}, fmt.Errorf("%w: bad chunked data size", store.ErrCorrupt)
		}
		body = body[n:]
		e.chunks.count, e.chunks.size = int(count), int(size)
	default:
		return entry{}, fmt.Errorf("%w: unknown item layout %#x", store.ErrCorrupt, layout)
	}
	if err := store.DecodeRecordInto(body, rec); err != nil {
		return entry{}, err
	}
	if layout == layoutChunked && len(rec.Data) > 0 {
		return entry{}, fmt.Errorf("%w: chunked record with inline data", store.ErrCorrupt)
	}
	rec.Version = e.version
	e.rec = rec
	return e, nil
}
