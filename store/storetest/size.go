package storetest

import (
	"crypto/rand"
	"fmt"

	"github.com/keycard-go/keycard/store"
)

func testLargeValue(f *fixture) {
	key := newKey()
	rec := f.record()
	rec.Data = make([]byte, 1<<20)
	rand.Read(rec.Data)
	want := f.create(key, rec)
	f.wantStored("after creating", key, want)

	rand.Read(want.Data)
	want = f.update(key, want)
	f.wantStored("after updating", key, want)
}

func testManyKeys(f *fixture) {
	const n = 200
	keys := newKeys(n)
	want := make([]store.Entry, n)
	for i, key := range keys {
		rec := f.record()
		rec.Data = fmt.Appendf(nil, "record %d of key %s", i, key)
		want[i] = store.Entry{Key: key, Record: f.create(key, rec)}
	}
	for i, w := range want {
		if i%2 == 0 {
			if err := f.s.Delete(f.ctx, w.Key); err != nil {
				f.t.Fatalf("Delete: got error %v, want nil", err)
			}
		}
	}
	for i, w := range want {
		if i%2 == 0 {
			f.wantAbsent(fmt.Sprintf("deleted key %d", i), w.Key)
		} else {
			f.wantStored(fmt.Sprintf("kept key %d", i), w.Key, w.Record)
		}
	}
}
