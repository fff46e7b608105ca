package storetest

import (
	"bytes"
	"time"

	"github.com/keycard-go/keycard/store"
)

func testCreateRoundTrip(f *fixture) {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	variants := []struct {
		name string
		edit func(r *store.Record)
	}{
		{"every field set", func(r *store.Record) {}},
		{"anonymous, never authenticated, not persistent", func(r *store.Record) {
			r.UserID, r.IP, r.UserAgent = "", "", ""
			r.AuthTime = time.Time{}
			r.Persistent = false
		}},
		{"empty data", func(r *store.Record) { r.Data = []byte{} }},
		{"nil data", func(r *store.Record) { r.Data = nil }},
		{"binary data with NUL bytes", func(r *store.Record) { r.Data = []byte{0, 0, 'a', 0, 0xff, 0} }},
		{"every byte value", func(r *store.Record) { r.Data = allBytes }},
		{"non-ASCII strings", func(r *store.Record) {
			r.UserID = "ユーザー-ü"
			r.UserAgent = "Agent ✓ \"quoted\" 'single' \\ back"
			r.IP = "2001:db8::1"
		}},
		{"expires after deadline", func(r *store.Record) { r.Expires = r.Deadline.Add(time.Hour) }},
	}
	for _, v := range variants {
		rec := f.record()
		v.edit(rec)
		key := newKey()
		want := f.create(key, rec)
		f.wantStored(v.name, key, want)
	}
}

func testCreateExisting(f *fixture) {
	key := newKey()
	want := f.create(key, f.record())
	other := f.record()
	other.UserID, other.Data = "intruder", []byte("other")
	err := f.s.Save(f.ctx, key, other)
	wantErr(f.t, "second Save(version 0)", err, store.ErrConflict)
	f.wantStored("after the conflict", key, want)
}

func testUpdate(f *fixture) {
	key := newKey()
	rec := f.create(key, f.record())
	for v := uint64(1); v <= 3; v++ {
		f.clock.Advance(time.Minute)
		now := f.now()
		rec.UserID = "user-99"
		rec.LastSeen, rec.AuthTime = now, now
		rec.Expires = now.Add(45*time.Minute + 7*time.Microsecond)
		rec.Persistent = !rec.Persistent
		rec.IP, rec.UserAgent = "198.51.100.1", "curl/8.0"
		rec.Data = bytes.Repeat([]byte{byte(v)}, int(v))
		rec = f.update(key, rec)
		if rec.Version != v+1 {
			f.t.Fatalf("update %d: got version %d, want %d", v, rec.Version, v+1)
		}
		f.wantStored("after the update", key, rec)
	}
}

func testUpdateStale(f *fixture) {
	key := newKey()
	v1 := f.create(key, f.record())
	v2 := v1.Clone()
	v2.Data = []byte("second")
	want := f.update(key, v2)
	stale := v1.Clone()
	stale.Data = []byte("stale writer")
	err := f.s.Save(f.ctx, key, stale)
	wantErr(f.t, "Save(version 1) over version 2", err, store.ErrConflict)
	f.wantStored("after the conflict", key, want)
}

func testUpdateFuture(f *fixture) {
	key := newKey()
	want := f.create(key, f.record())
	for _, v := range []uint64{2, 1 << 40, 1 << 62} {
		future := want.Clone()
		future.Version = v
		future.Data = []byte("from the future")
		err := f.s.Save(f.ctx, key, future)
		wantErr(f.t, "Save(future version) over version 1", err, store.ErrConflict)
	}
	f.wantStored("after the conflicts", key, want)
}

func testUpdateAbsent(f *fixture) {
	key := newKey()
	for _, v := range []uint64{1, 2, 1 << 40} {
		rec := f.record()
		rec.Version = v
		err := f.s.Save(f.ctx, key, rec)
		wantErr(f.t, "Save(non-zero version) on an absent key", err, store.ErrConflict)
		f.wantAbsent("after the conflict", key)
	}
}

func testSaveKeepsArgument(f *fixture) {
	key := newKey()
	rec := f.record()
	before := rec.Clone()
	if err := f.s.Save(f.ctx, key, rec); err != nil {
		f.t.Fatalf("Save(version 0): got error %v, want nil", err)
	}
	checkRecord(f.t, "argument after create", rec, before)
	rec.Version = 1
	before = rec.Clone()
	if err := f.s.Save(f.ctx, key, rec); err != nil {
		f.t.Fatalf("Save(version 1): got error %v, want nil", err)
	}
	checkRecord(f.t, "argument after update", rec, before)
}

func testSaveCopiesData(f *fixture) {
	key := newKey()
	rec := f.record()
	rec.Data = []byte("original data")
	want := f.create(key, rec)
	for i := range rec.Data {
		rec.Data[i] = 'X'
	}
	rec.UserID, rec.IP, rec.Version = "reused", "reused", 42
	rec.Expires = rec.Expires.Add(time.Hour)
	f.wantStored("after reusing the created record and its slice", key, want)

	rec = want.Clone()
	rec.Data = []byte("updated data")
	want = f.update(key, rec)
	for i := range rec.Data {
		rec.Data[i] = 'Y'
	}
	f.wantStored("after mutating the updated slice", key, want)
}

func testLoadCopies(f *fixture) {
	key := newKey()
	want := f.create(key, f.record())
	got := f.load(key)
	for i := range got.Data {
		got.Data[i] ^= 0xff
	}
	got.Version = 99
	got.UserID, got.IP, got.UserAgent = "mutated", "mutated", "mutated"
	got.Expires, got.Deadline = time.Time{}, time.Time{}
	got.Persistent = !got.Persistent
	f.wantStored("after mutating a loaded record", key, want)
}
