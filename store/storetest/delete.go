package storetest

import "github.com/keycard-go/keycard/store"

func testDelete(f *fixture) {
	key, other := newKey(), newKey()
	f.create(key, f.record())
	want := f.create(other, f.record())
	if err := f.s.Delete(f.ctx, key); err != nil {
		f.t.Fatalf("Delete: got error %v, want nil", err)
	}
	f.wantAbsent("after Delete", key)
	f.wantStored("the other key after Delete", other, want)
	if err := f.s.Delete(f.ctx, key); err != nil {
		f.t.Errorf("second Delete: got error %v, want nil", err)
	}
}

func testDeleteThenStaleSave(f *fixture) {
	key := newKey()
	v1 := f.create(key, f.record())
	v2 := f.update(key, v1.Clone())
	if err := f.s.Delete(f.ctx, key); err != nil {
		f.t.Fatalf("Delete: got error %v, want nil", err)
	}
	for _, stale := range []*store.Record{v1, v2} {
		err := f.s.Save(f.ctx, key, stale)
		wantErr(f.t, "Save(old version) after Delete", err, store.ErrConflict)
		f.wantAbsent("after the stale Save", key)
	}
}

func testDeleteThenCreate(f *fixture) {
	key := newKey()
	f.update(key, f.create(key, f.record()))
	if err := f.s.Delete(f.ctx, key); err != nil {
		f.t.Fatalf("Delete: got error %v, want nil", err)
	}
	rec := f.record()
	rec.Data = []byte("born again")
	want := f.create(key, rec)
	f.wantStored("after re-creating", key, want)
}
