package storetest

import (
	"context"
	"time"
)

func testCancelledContext(f *fixture) {
	key := newKey()
	want := f.create(key, f.record())
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	now := f.now()

	if rec, err := f.s.Load(ctx, key); err == nil {
		f.t.Errorf("Load with a cancelled context: got record %v and a nil error, want an error", rec)
	}
	if err := f.s.Save(ctx, newKey(), f.record()); err == nil {
		f.t.Error("Save with a cancelled context: got a nil error, want an error")
	}
	if err := f.s.Touch(ctx, key, now, now.Add(time.Hour)); err == nil {
		f.t.Error("Touch with a cancelled context: got a nil error, want an error")
	}
	if err := f.s.Delete(ctx, key); err == nil {
		f.t.Error("Delete with a cancelled context: got a nil error, want an error")
	}
	f.wantStored("after the cancelled calls", key, want)
}
