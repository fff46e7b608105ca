package storetest

import (
	"time"

	"github.com/keycard-go/keycard/store"
)

func testCountAnonymous(f *fixture) {
	c := f.s.(store.Counter)
	base := f.now()
	for i := range 5 {
		rec := f.record()
		rec.UserID = ""
		if i >= 3 {
			rec.Expires = base.Add(time.Minute) // expired below
		}
		f.createEntry(rec)
	}
	signed := f.record()
	signed.UserID = "alice"
	f.createEntry(signed)
	f.advanceTo(base.Add(2 * time.Minute))
	n, err := c.CountAnonymous(f.ctx)
	if err != nil || n != 3 {
		f.t.Errorf("CountAnonymous: got %d, %v; want the 3 live anonymous records", n, err)
	}
}
