package storetest

import (
	"time"

	"github.com/keycard-go/keycard/store"
)

func testLoadAbsent(f *fixture) {
	rec, err := f.s.Load(f.ctx, newKey())
	wantErr(f.t, "Load", err, store.ErrNotFound)
	if rec != nil {
		f.t.Errorf("Load: got record %+v, want nil", rec)
	}
}

func testTouchAbsent(f *fixture) {
	key := newKey()
	now := f.now()
	err := f.s.Touch(f.ctx, key, now, now.Add(time.Hour))
	wantErr(f.t, "Touch", err, store.ErrNotFound)
	f.wantAbsent("after Touch", key)
}

func testDeleteAbsent(f *fixture) {
	key := newKey()
	if err := f.s.Delete(f.ctx, key); err != nil {
		f.t.Errorf("Delete: got error %v, want nil", err)
	}
	f.wantAbsent("after Delete", key)
}
