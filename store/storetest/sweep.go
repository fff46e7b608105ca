package storetest

import (
	"time"

	"github.com/keycard-go/keycard/store"
)

func testSweep(f *fixture) {
	sw := f.s.(store.Sweeper)
	base := f.now()
	var expired, live []store.Entry
	for range 5 {
		rec := f.record()
		rec.Expires = base.Add(time.Minute)
		expired = append(expired, f.createEntry(rec))
	}
	for range 3 {
		live = append(live, f.createEntry(f.record()))
	}
	f.advanceTo(base.Add(2 * time.Minute))

	// A backend may already have removed some expired records by other
	// means, such as native TTLs, so Sweep may count fewer, never more.
	n, err := sw.Sweep(f.ctx)
	if err != nil || n < 0 || n > len(expired) {
		f.t.Errorf("Sweep: got %d, %v, want at most %d (the expired records), nil", n, err, len(expired))
	}
	for _, e := range live {
		f.wantStored("live record after Sweep", e.Key, e.Record)
	}
	for _, e := range expired {
		f.wantAbsent("expired record after Sweep", e.Key)
	}
	if n, err := sw.Sweep(f.ctx); err != nil || n != 0 {
		f.t.Errorf("second Sweep: got %d, %v, want 0, nil", n, err)
	}
}
