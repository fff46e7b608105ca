package storetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/keycard-go/keycard/store"
)

// saveBatch calls SaveBatch with entries. When the store reports
// ErrUnsupported, it checks that every key still holds what it held
// before, then skips the case: such a store batches only in some
// configurations, and this is not one of them.
func (f *fixture) saveBatch(entries []store.Entry) error {
	f.t.Helper()
	before := make([]*store.Record, len(entries))
	for i, e := range entries {
		rec, err := f.s.Load(f.ctx, e.Key)
		switch {
		case err == nil:
			before[i] = rec
		case !errors.Is(err, store.ErrNotFound):
			f.t.Fatalf("Load before SaveBatch: got error %v, want nil or %v", err, store.ErrNotFound)
		}
	}
	err := f.s.(store.Batcher).SaveBatch(f.ctx, entries)
	if !errors.Is(err, store.ErrUnsupported) {
		return err
	}
	for i, e := range entries {
		what := fmt.Sprintf("entry %d after SaveBatch reported ErrUnsupported", i)
		if before[i] == nil {
			f.wantAbsent(what, e.Key)
		} else {
			f.wantStored(what, e.Key, before[i])
		}
	}
	f.t.Skipf("storetest: %T reports %v for SaveBatch here; checked that it wrote nothing", f.s, err)
	return err
}

// renewal returns the batch that renews the session stored under oldKey
// as old, as the Manager saves it: old under newKey as a new record, and
// under oldKey, at old's version, a short-lived marker without a user.
func (f *fixture) renewal(oldKey, newKey string, old *store.Record) []store.Entry {
	renewed := old.Clone()
	renewed.Version = 0
	marker := f.record()
	marker.Version = old.Version
	marker.UserID, marker.Data = "", []byte("renewed")
	marker.Expires = f.now().Add(time.Minute + 7*time.Microsecond)
	return []store.Entry{{Key: newKey, Record: renewed}, {Key: oldKey, Record: marker}}
}

// stored returns what a store holds after saving rec: a copy with the next
// version.
func stored(rec *store.Record) *store.Record {
	rec = rec.Clone()
	rec.Version++
	return rec
}

func testBatchWrites(f *fixture) {
	existing := f.createEntry(f.record())
	update := existing.Record.Clone()
	update.UserID, update.Data = "user-7", []byte("updated in a batch")
	create := f.record()
	create.Data = []byte("created in a batch")
	newKey := newKey()
	if err := f.saveBatch([]store.Entry{{Key: newKey, Record: create}, {Key: existing.Key, Record: update}}); err != nil {
		f.t.Fatalf("SaveBatch(a create, an update): got error %v, want nil", err)
	}
	f.wantStored("the record the batch created", newKey, stored(create))
	f.wantStored("the record the batch updated", existing.Key, stored(update))
}

func testBatchStale(f *fixture) {
	a := f.createEntry(f.record())
	v2 := a.Record.Clone()
	v2.Data = []byte("second")
	a.Record = f.update(a.Key, v2)
	b := newKey()

	stale := a.Record.Clone()
	stale.Version, stale.Data = 1, []byte("stale writer")
	fresh := f.record()
	fresh.Data = []byte("batched with a stale writer")
	batches := map[string][]store.Entry{
		"a stale update last":           {{Key: b, Record: fresh}, {Key: a.Key, Record: stale}},
		"a create of an existing first": {{Key: a.Key, Record: fresh}, {Key: b, Record: fresh.Clone()}},
	}
	for name, batch := range batches {
		err := f.saveBatch(batch)
		wantErr(f.t, "SaveBatch with "+name, err, store.ErrConflict)
		f.wantStored("the existing record after SaveBatch with "+name, a.Key, a.Record)
		f.wantAbsent("the new record after SaveBatch with "+name, b)
	}
}

func testBatchKeepsArguments(f *fixture) {
	existing := f.createEntry(f.record())
	update, create := existing.Record.Clone(), f.record()
	update.Data, create.Data = []byte("update data"), []byte("create data")
	entries := []store.Entry{{Key: newKey(), Record: create}, {Key: existing.Key, Record: update}}
	want := []*store.Record{stored(create), stored(update)}
	before := []*store.Record{create.Clone(), update.Clone()}
	if err := f.saveBatch(entries); err != nil {
		f.t.Fatalf("SaveBatch: got error %v, want nil", err)
	}
	for i, e := range entries {
		checkRecord(f.t, fmt.Sprintf("argument %d after SaveBatch", i), e.Record, before[i])
		for j := range e.Record.Data {
			e.Record.Data[j] = 'X'
		}
	}
	for i, e := range entries {
		f.wantStored(fmt.Sprintf("record %d after mutating its saved slice", i), e.Key, want[i])
	}
}

func testBatchRenewal(f *fixture) {
	old := f.createFor("A", "A's session")
	other := f.createFor("A", "A's other session")
	newKey := newKey()
	batch := f.renewal(old.Key, newKey, old.Record)
	if err := f.saveBatch(batch); err != nil {
		f.t.Fatalf("SaveBatch(renewed session, marker): got error %v, want nil", err)
	}
	renewed := stored(batch[0].Record)
	f.wantStored("the renewed session", newKey, renewed)
	f.wantStored("the marker under the old key", old.Key, stored(batch[1].Record))
	if f.has(userIndex) {
		f.wantListed("A", store.Entry{Key: newKey, Record: renewed}, other)
	}
}
