package store

import (
	"bytes"
	"testing"
	"unsafe"
)

// Review of cb1c835 (reverted by 7b5bcec): DecodeRecord's Data must not
// alias its input. Both Redis clients hand the store a reply's bytes as
// a view of an immutable string (rueidis's AsBytes, go-redis's Bytes
// through its unsafe conversion), and a caller owns the record Load
// returns (storetest's "load returns a copy" writes into its Data), so a
// Data sliced from the input would have callers write into a string.

// TestReviewDecodeRecordDataDoesNotAliasTheInput: writing into the input
// after decoding leaves Data alone, and writing into Data leaves the
// input alone.
func TestReviewDecodeRecordDataDoesNotAliasTheInput(t *testing.T) {
	t.Parallel()
	b := EncodeRecord(sampleRecord())
	orig := bytes.Clone(b)
	rec, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(rec.Data)
	for i := range b {
		b[i] ^= 0xff
	}
	if !bytes.Equal(rec.Data, want) {
		t.Errorf("Data changed with the input: %q, want %q", rec.Data, want)
	}
	copy(b, orig)
	for i := range rec.Data {
		rec.Data[i] = 'X'
	}
	if !bytes.Equal(b, orig) {
		t.Error("writing into Data changed the input")
	}
}

// TestReviewDecodeRecordOfAStringView: a record decoded from a view of a
// string, as the Redis store decodes its replies, can have its Data
// written by its owner without changing the string.
func TestReviewDecodeRecordOfAStringView(t *testing.T) {
	t.Parallel()
	reply := string(EncodeRecord(sampleRecord())) // a client's reply
	want := string([]byte(reply))                 // a copy to compare with
	view := unsafe.Slice(unsafe.StringData(reply), len(reply))
	rec, err := DecodeRecord(view)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rec.Data {
		rec.Data[i] ^= 0xff
	}
	if reply != want {
		t.Error("writing into a decoded record's Data changed the immutable string it was decoded from")
	}
}
