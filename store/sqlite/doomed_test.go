package sqlite

import "testing"

func TestDoomedSavesOnlyCountObservationsMadeSinceTheSaveBegan(t *testing.T) {
	t.Parallel()
	var d doomedSaves
	const key, other = "k", "other"
	d.observe(d.tick(), key, 5) // before the save began: ignored
	mark := d.now()
	if d.doomed(mark, key, 4) {
		t.Error("an observation from before the save dooms it")
	}
	d.observe(d.tick(), other, 9)
	if d.doomed(mark, key, 4) {
		t.Error("an observation of another key dooms the save")
	}
	d.observe(d.tick(), key, 4)
	if d.doomed(mark, key, 4) {
		t.Error("an observation of the version the save expects dooms it")
	}
	d.observe(d.tick(), key, 0) // deleted, or found absent
	if !d.doomed(mark, key, 4) {
		t.Error("the key seen absent since the save began does not doom it")
	}
	if d.doomed(mark, key, 0) {
		t.Error("a save with version 0 is doomed; the record seen may since have expired")
	}
}

func TestDoomedSavesForgetTheOldestObservations(t *testing.T) {
	t.Parallel()
	var d doomedSaves
	mark := d.now()
	d.observe(d.tick(), "k", 7)
	for range observedVersions {
		d.observe(d.tick(), "other", 1)
	}
	if d.doomed(mark, "k", 6) {
		t.Error("an observation pushed out of the ring still dooms a save")
	}
}
