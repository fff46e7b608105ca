package storetest

import (
	"errors"
	"time"

	"github.com/keycard-go/keycard/store"
)

// loadRecord calls the store's LoadRecord; require(recordLoader) has
// checked that it has one.
func (f *fixture) loadRecord(key string, rec *store.Record) error {
	return f.s.(store.RecordLoader).LoadRecord(f.ctx, key, rec)
}

func testLoadRecordMatchesLoad(f *fixture) {
	f.require(recordLoader)
	e := f.createFor("user-1", "values")
	want := f.update(e.Key, e.Record) // at version 2, so a version is read, not assumed
	// Into a record that holds another session's fields, as a reused
	// Record would: every field is replaced.
	rec := f.record()
	rec.UserID, rec.Version, rec.Persistent = "someone else", 99, !want.Persistent
	if err := f.loadRecord(e.Key, rec); err != nil {
		f.t.Fatalf("LoadRecord: got error %v, want nil", err)
	}
	checkRecord(f.t, "LoadRecord", rec, want)
	checkRecord(f.t, "Load after LoadRecord", f.load(e.Key), want)
}

func testLoadRecordAbsent(f *fixture) {
	f.require(recordLoader)
	e := f.createEntry(f.record())
	f.clock.Advance(e.Record.Expires.Sub(f.now()) + time.Minute)
	for what, key := range map[string]string{"an absent key": newKey(), "an expired record": e.Key} {
		rec := f.record()
		rec.UserID, rec.Data = "untouched", []byte("untouched")
		before := rec.Clone()
		if err := f.loadRecord(key, rec); !errors.Is(err, store.ErrNotFound) {
			f.t.Errorf("LoadRecord of %s: got error %v, want %v", what, err, store.ErrNotFound)
		}
		checkRecord(f.t, "the record after LoadRecord of "+what, rec, before)
	}
}

func testLoadRecordDataIsOwn(f *fixture) {
	f.require(recordLoader)
	e := f.createEntry(f.record())
	var rec store.Record
	if err := f.loadRecord(e.Key, &rec); err != nil {
		f.t.Fatalf("LoadRecord: got error %v, want nil", err)
	}
	loaded := rec.Clone()
	for i := range rec.Data {
		rec.Data[i] = 'X'
	}
	f.wantStored("the record after its loaded Data was changed", e.Key, e.Record)
	next := e.Record.Clone()
	next.Data = []byte("saved after the load")
	f.update(e.Key, next)
	for i := range rec.Data {
		rec.Data[i] = loaded.Data[i]
	}
	checkRecord(f.t, "the loaded record after a later save", &rec, loaded)
}
