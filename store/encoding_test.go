package store

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func sampleRecord() *Record {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)
	return &Record{
		UserID: "alice", Created: t0, LastSeen: t0.Add(time.Minute), Expires: t0.Add(31 * time.Minute),
		Deadline: t0.Add(8 * time.Hour), Persistent: true, IP: "192.0.2.1", UserAgent: "test/1.0",
		Data: []byte{0, 1, 2, 0xff},
	}
}

func TestRecordEncodingRoundTrips(t *testing.T) {
	t.Parallel()
	for name, rec := range map[string]*Record{"full": sampleRecord(), "empty": {}} {
		got, err := DecodeRecord(EncodeRecord(rec))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got.Data) == 0 && len(rec.Data) == 0 {
			got.Data = rec.Data // nil and empty are the same data
		}
		if !reflect.DeepEqual(got, rec) {
			t.Errorf("%s: got %+v, want %+v", name, got, rec)
		}
	}
}

func TestDecodeRecordRejectsDamage(t *testing.T) {
	t.Parallel()
	b := EncodeRecord(sampleRecord())
	for i := 0; i < len(b); i++ {
		if _, err := DecodeRecord(b[:i]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: got %v, want ErrCorrupt", i, err)
		}
	}
	if _, err := DecodeRecord(append(bytes.Clone(b), 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: got %v, want ErrCorrupt", err)
	}
	bad := bytes.Clone(b)
	bad[0] = 9
	if _, err := DecodeRecord(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unknown format: got %v, want ErrCorrupt", err)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(EncodeRecord(sampleRecord()))
	f.Add(EncodeRecord(&Record{}))
	f.Add([]byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := DecodeRecord(b)
		// DecodeRecordInto agrees, into a record holding other fields,
		// whose Version it keeps, and which it leaves alone on an error.
		into := sampleRecord()
		before := *into
		errInto := DecodeRecordInto(b, into)
		if (err == nil) != (errInto == nil) {
			t.Fatalf("DecodeRecord: %v; DecodeRecordInto: %v", err, errInto)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || !errors.Is(errInto, ErrCorrupt) {
				t.Fatalf("errors %v, %v do not wrap ErrCorrupt", err, errInto)
			}
			if !reflect.DeepEqual(*into, before) {
				t.Fatal("DecodeRecordInto changed the record on an error")
			}
			return
		}
		if into.Version != before.Version {
			t.Fatalf("DecodeRecordInto set Version %d, want it kept at %d", into.Version, before.Version)
		}
		into.Version = 0
		if !reflect.DeepEqual(into, rec) {
			t.Fatalf("DecodeRecordInto gave %+v, DecodeRecord %+v", into, rec)
		}
		again, err := DecodeRecord(EncodeRecord(rec))
		if err != nil || !reflect.DeepEqual(again, rec) {
			t.Fatalf("accepted record does not round-trip: %v", err)
		}
	})
}

// TestDecodedStringsOutliveChangesToData: the text fields of a decoded
// record share one allocation with its Data, and no write through Data,
// nor an append to it, changes them.
func TestDecodedStringsOutliveChangesToData(t *testing.T) {
	in := sampleRecord()
	b := EncodeRecord(in)
	var rec Record
	if allocs := testing.AllocsPerRun(100, func() { _ = DecodeRecordInto(b, &rec) }); allocs != 1 {
		t.Errorf("DecodeRecordInto: %v allocations, want 1 (text fields and Data together)", allocs)
	}
	if err := DecodeRecordInto(b, &rec); err != nil {
		t.Fatal(err)
	}
	if cap(rec.Data) != len(rec.Data) {
		t.Errorf("Data has capacity %d past its %d bytes, want none", cap(rec.Data), len(rec.Data))
	}
	for i := range rec.Data {
		rec.Data[i] = 'X'
	}
	rec.Data = append(rec.Data, "more data than fits"...)
	if rec.UserID != in.UserID || rec.IP != in.IP || rec.UserAgent != in.UserAgent {
		t.Errorf("after writes to Data: UserID %q, IP %q, UserAgent %q; want %q, %q, %q", rec.UserID, rec.IP, rec.UserAgent, in.UserID, in.IP, in.UserAgent)
	}
	// A record without data decodes with nil Data, as before.
	in.Data = nil
	if err := DecodeRecordInto(EncodeRecord(in), &rec); err != nil || rec.Data != nil || rec.UserAgent != in.UserAgent {
		t.Errorf("no data: got Data %v, UserAgent %q, %v; want nil, %q", rec.Data, rec.UserAgent, err, in.UserAgent)
	}
}
