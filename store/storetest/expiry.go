package storetest

import (
	"time"

	"github.com/keycard-go/keycard/store"
)

// alignedNow returns the current time truncated to the millisecond. Limits
// computed from it are whole milliseconds, which every store keeps exactly,
// so a test can stop the clock right at them.
func (f *fixture) alignedNow() time.Time {
	return f.now().Truncate(time.Millisecond)
}

// wantExpired checks that key is absent for Load and Touch at the current
// time, that the failed Touch did not bring it back, and that a Save with
// version 0 then creates a new record.
func (f *fixture) wantExpired(what, key string) {
	f.t.Helper()
	f.wantAbsent(what, key)
	now := f.now()
	err := f.s.Touch(f.ctx, key, now, now.Add(time.Hour))
	wantErr(f.t, what+": Touch", err, store.ErrNotFound)
	f.wantAbsent(what+", after Touch", key)

	rec := f.record()
	rec.Data = []byte("created over an expired record")
	want := f.create(key, rec)
	f.wantStored(what+", after Save(version 0)", key, want)
}

func testExpiresAtExpires(f *fixture) {
	key := newKey()
	base := f.alignedNow()
	rec := f.record()
	rec.Expires, rec.Deadline = base.Add(10*time.Minute), base.Add(8*time.Hour)
	want := f.create(key, rec)

	f.advanceTo(rec.Expires.Add(-time.Microsecond))
	f.wantStored("1µs before Expires", key, want)
	f.advanceTo(rec.Expires)
	f.wantExpired("at Expires", key)
}

func testExpiresAtDeadline(f *fixture) {
	key := newKey()
	base := f.alignedNow()
	rec := f.record()
	rec.Expires, rec.Deadline = base.Add(10*time.Minute), base.Add(5*time.Minute)
	want := f.create(key, rec)

	f.advanceTo(rec.Deadline.Add(-time.Microsecond))
	f.wantStored("1µs before Deadline", key, want)
	f.advanceTo(rec.Deadline)
	f.wantExpired("at Deadline", key)
}

func testTouchPastDeadline(f *fixture) {
	key := newKey()
	base := f.alignedNow()
	rec := f.record()
	rec.Expires, rec.Deadline = base.Add(10*time.Minute), base.Add(15*time.Minute)
	want := f.create(key, rec)

	f.advanceTo(base.Add(9 * time.Minute))
	now := f.now()
	want.LastSeen, want.Expires = now, base.Add(time.Hour)
	if err := f.s.Touch(f.ctx, key, want.LastSeen, want.Expires); err != nil {
		f.t.Fatalf("Touch: got error %v, want nil", err)
	}
	f.advanceTo(rec.Deadline.Add(-time.Microsecond))
	f.wantStored("1µs before Deadline", key, want)
	f.advanceTo(rec.Deadline)
	f.wantExpired("at Deadline", key)
}

func testSaveOverExpired(f *fixture) {
	key := newKey()
	base := f.alignedNow()
	rec := f.record()
	rec.Expires = base.Add(10 * time.Minute)
	old := f.create(key, rec)

	f.advanceTo(rec.Expires)
	err := f.s.Save(f.ctx, key, old)
	wantErr(f.t, "Save(version 1) over an expired record", err, store.ErrConflict)
	f.wantAbsent("after the conflict", key)

	fresh := f.record()
	fresh.Data = []byte("fresh")
	want := f.create(key, fresh)
	f.wantStored("after Save(version 0) over an expired record", key, want)
}
