package storetest

import (
	"errors"
	"time"

	"github.com/keycard-go/keycard/store"
)

func testScan(f *fixture) {
	sc := f.s.(store.Scanner)
	base := f.now()
	want := map[string]*store.Record{}
	for range 4 {
		e := f.createEntry(f.record())
		want[e.Key] = e.Record
	}
	for range 2 {
		rec := f.record()
		rec.Expires = base.Add(time.Minute)
		f.createEntry(rec)
	}
	f.advanceTo(base.Add(2 * time.Minute))
	seen := map[string]bool{}
	err := sc.Scan(f.ctx, func(e store.Entry) error {
		if seen[e.Key] {
			f.t.Errorf("Scan visited %q twice", e.Key)
		}
		seen[e.Key] = true
		if w, ok := want[e.Key]; !ok {
			f.t.Errorf("Scan visited %q, an expired or unknown record", e.Key)
		} else if e.Record.UserID != w.UserID || e.Record.Version == 0 {
			f.t.Errorf("Scan gave %q with user %q version %d, want user %q and a version", e.Key, e.Record.UserID, e.Record.Version, w.UserID)
		}
		return nil
	})
	if err != nil {
		f.t.Fatalf("Scan: %v", err)
	}
	if len(seen) != len(want) {
		f.t.Errorf("Scan visited %d records, want the %d live ones", len(seen), len(want))
	}
}

func testScanStops(f *fixture) {
	sc := f.s.(store.Scanner)
	for range 3 {
		f.createEntry(f.record())
	}
	stop := errors.New("enough")
	calls := 0
	err := sc.Scan(f.ctx, func(store.Entry) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		f.t.Errorf("Scan: got %v after %d calls, want the function's error after 1", err, calls)
	}
}
