package keycard

import (
	"net/http"
	"testing"
	"testing/synctest"

	"github.com/keycard-go/keycard/store"
)

// Two instances with the same keys: while a rotation on one has created
// the new record and not yet retired the old one, a request on the other
// with the old cookie (due to rotate too) finds the new key taken, and
// saves its write under the old key. The first rotation then absorbs
// that write and retires the old record: neither client is signed out,
// no write is lost, and one session remains (with its marker).
func TestReview3SameKeysRotationAbsorbsRacingWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, instance, ms, c := markerFixture(t)
		start := c.cookie
		other := &client{f: instance, cookie: start}
		fired := false
		ms.onMarker = func() {
			if !fired {
				fired = true
				if res := other.do("GET", "/put?k=theirs&v=2"); res.Code != http.StatusOK {
					t.Errorf("the other instance's request answered %d", res.Code)
				}
			}
		}
		if res := c.do("GET", "/put?k=mine&v=1"); res.Code != http.StatusOK {
			t.Fatalf("the rotating request answered %d", res.Code)
		}
		ms.onMarker = nil
		if !fired {
			t.Fatal("no marker was saved")
		}
		if c.cookie == start {
			t.Error("the rotation did not move the client")
		}
		if got := f.records(); got != 2 {
			t.Errorf("the store holds %d records, want the session and its marker", got)
		}
		if got := c.get("/get?k=mine") + c.get("/get?k=theirs") + c.get("/user"); got != "12alice" {
			t.Errorf("after the race: %q, want 12alice", got)
		}
		if got := other.get("/user"); got != "alice" || other.cookie != c.cookie {
			t.Errorf("the other client: user %q, same ID %v; want alice under the rotated ID", got, other.cookie == c.cookie)
		}
	})
}

// idSigner.rotated derives only a child of the presented ID: a marker
// naming another session's key (or any key no ring key derives from the
// ID) leads nowhere, and one naming the ID derived under an older key of
// the ring is followed to exactly that ID.
func TestReview3RotatedFollowsOnlyDerivedIDs(t *testing.T) {
	t.Parallel()
	g, err := newIDSigner([][]byte{testKey(2), testKey(1)}, "id")
	if err != nil {
		t.Fatal(err)
	}
	old, err := newIDSigner([][]byte{testKey(1)}, "id")
	if err != nil {
		t.Fatal(err)
	}
	var id, victim sessionID
	id[0], victim[0] = 1, 2
	if got, ok := g.rotated(&id, victim.hash()); ok {
		t.Errorf("a marker naming another session's key led to %x", got[:4])
	}
	vnext := g.next(&victim)
	if _, ok := g.rotated(&id, vnext.hash()); ok {
		t.Error("a marker naming another session's rotated key was followed")
	}
	want := old.next(&id)
	if got, ok := g.rotated(&id, want.hash()); !ok || got != want {
		t.Error("the ID an instance with the older key derived was not followed")
	}
	mine := g.next(&id)
	if got, ok := g.rotated(&id, mine.hash()); !ok || got != mine {
		t.Error("the ID this instance derives was not followed")
	}
	if got, ok := g.rotated(&id, ""); !ok || got != g.next(&id) {
		t.Error("a marker naming no key does not get this instance's derivation")
	}
}

// A marker save whose compare-and-set landed but was reported as a
// conflict (a client that retried an EVALSHA whose reply timed out; the
// retry finds the version moved on) wrote this rotation's own marker.
// Once retire abandoned every move that found a marker, it deleted the
// new record its own marker named, and signed the client out; each marker
// now carries a nonce of its move, and retire recognises its own.
func TestReview3OwnMarkerReportedAsConflictSignsOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, _, ms, c := markerFixture(t)
		start := c.cookie
		ms.failMarker, ms.landMarker = store.ErrConflict, true
		res := c.do("GET", "/put?k=b&v=2")
		ms.failMarker = nil
		if res.Code != http.StatusOK {
			t.Errorf("the rotating request answered %d", res.Code)
		}
		if got := c.get("/user") + c.get("/get?k=b"); got != "alice2" {
			t.Errorf("after a rotation whose own marker save was reported a conflict: %q (moved %v, %d records), want alice2",
				got, c.cookie != start, f.records())
		}
	})
}
