package storetest

import "time"

func testTouchFields(f *fixture) {
	key := newKey()
	want := f.create(key, f.record())
	f.clock.Advance(time.Minute)
	now := f.now()
	expires := now.Add(20*time.Minute + 9*time.Microsecond)
	if err := f.s.Touch(f.ctx, key, now, expires); err != nil {
		f.t.Fatalf("Touch: got error %v, want nil", err)
	}
	want.LastSeen, want.Expires = now, expires
	f.wantStored("after Touch", key, want)
}

func testTouchKeepsVersion(f *fixture) {
	key := newKey()
	rec := f.create(key, f.record())
	for range 3 {
		f.clock.Advance(time.Second)
		now := f.now()
		if err := f.s.Touch(f.ctx, key, now, now.Add(time.Hour)); err != nil {
			f.t.Fatalf("Touch: got error %v, want nil", err)
		}
	}
	rec.Data = []byte("saved after touches")
	want := f.update(key, rec)
	f.wantStored("after Save with the version from before the touches", key, want)
}

func testTouchExtends(f *fixture) {
	key := newKey()
	base := f.alignedNow()
	rec := f.record()
	rec.Expires, rec.Deadline = base.Add(10*time.Minute), base.Add(8*time.Hour)
	f.create(key, rec)

	f.advanceTo(base.Add(9 * time.Minute))
	expires := base.Add(20 * time.Minute)
	if err := f.s.Touch(f.ctx, key, f.now(), expires); err != nil {
		f.t.Fatalf("Touch: got error %v, want nil", err)
	}
	f.advanceTo(rec.Expires)
	f.load(key)
	f.advanceTo(expires.Add(-time.Microsecond))
	f.load(key)
	f.advanceTo(expires)
	f.wantAbsent("at the extended expiry", key)
}
