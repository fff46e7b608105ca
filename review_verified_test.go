package keycard

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard/event"
)

// Review of the verified-token cache (verified.go): it must never accept a
// token that verify refuses, never answer for another token, and never
// stand in for the store lookup.

// TestReviewCollisionNeverAnswersForAnotherToken plants, under the hash
// of one token, the entry of another (a forged 64-bit maphash collision):
// the entry must not answer for the token whose hash it sits under.
func TestReviewCollisionNeverAnswersForAnotherToken(t *testing.T) {
	m, err := New(Config{Keys: []Key{testKey(1)}})
	if err != nil {
		t.Fatal(err)
	}
	var a, b sessionID
	a[0], b[0] = 1, 2
	ta, tb := m.ids.sign(&a), m.ids.sign(&b)
	c := m.ids.seen
	// plant puts e in the slot of under.
	plant := func(under string, e *verifiedToken) {
		c.slots[maphash.String(c.seed, under)%verifiedSlots].Store(e)
	}

	// A's entry under B's hash: B (valid) must open as B, not as A.
	plant(tb, entryOf(ta, a))
	if e := c.get(tb); e != nil {
		t.Fatalf("get(B) answered with the entry of another token: %+v", e)
	}
	id, key, reason := m.ids.open(tb)
	if reason != "" || id != b || key != b.hash() {
		t.Fatalf("open(B) with A's entry under B's hash = %x, %q, %q; want B", id, key, reason)
	}
	// B's open replaced the planted entry, and A still opens as A.
	if e := c.get(tb); e == nil || e.id != b {
		t.Fatalf("after open(B) the entry under B's hash is %+v", e)
	}
	if id, _, reason := m.ids.open(ta); reason != "" || id != a {
		t.Fatalf("open(A) = %x, %q", id, reason)
	}

	// A's entry under the hash of a forgery (B's token, last tag character
	// changed; and a token of another length): refused, never A.
	forged := tb[:len(tb)-1] + string("AB"[btoi(tb[len(tb)-1] == 'A')])
	for _, v := range []string{forged, ta + "A", ta[:len(ta)-1], "", "x"} {
		plant(v, entryOf(ta, a))
		id, key, reason := m.ids.open(v)
		if reason == "" || id != (sessionID{}) || key != "" {
			t.Errorf("open(%q) under a planted entry = %x, %q, %q; want refused", v, id, key, reason)
		}
		if vid, vreason := m.ids.verify(v); vreason != reason || vid != id {
			t.Errorf("open(%q) gave %q, verify %q", v, reason, vreason)
		}
	}
}

// entryOf is a cache entry holding token, for id.
func entryOf(token string, id sessionID) *verifiedToken {
	e := &verifiedToken{id: id, key: id.hash()}
	copy(e.token[:], token)
	return e
}

func raceBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestReviewNearMissesOfACachedToken: with the token cached, every
// variant verify refuses is refused by open too, and none is cached.
func TestReviewNearMissesOfACachedToken(t *testing.T) {
	m, err := New(Config{Keys: []Key{testKey(1)}})
	if err != nil {
		t.Fatal(err)
	}
	var id sessionID
	id[5] = 9
	tok := m.ids.sign(&id)
	if _, _, r := m.ids.open(tok); r != "" {
		t.Fatal(r)
	}
	var variants []string
	for i := range tok {
		variants = append(variants,
			tok[:i],                // prefixes
			tok[:i]+"\n"+tok[i+1:], // base64 decoders skip newlines
			tok[:i]+tok[i+1:]+"A",  // one character moved
			tok[:i]+strings.ToUpper(tok[i:i+1])+tok[i+1:],
			tok[:i]+strings.ToLower(tok[i:i+1])+tok[i+1:],
			tok[:i]+"="+tok[i+1:],
		)
	}
	variants = append(variants, tok+"A", tok+"=", " "+tok, tok+" ", tok+"\n", "\n"+tok[1:],
		tok+tok, tok[:len(tok)-2]+"==", strings.ToUpper(tok), strings.ToLower(tok))
	for _, v := range variants {
		if v == tok {
			continue
		}
		vid, vreason := m.ids.verify(v)
		for range 2 {
			oid, key, oreason := m.ids.open(v)
			if oid != vid || oreason != vreason || (vreason != "" && key != "") {
				t.Fatalf("open(%q) = %x, %q, %q; verify %x, %q", v, oid, key, oreason, vid, vreason)
			}
		}
		if vreason == "" {
			t.Fatalf("variant %q of a signed token verifies", v)
		}
		if m.ids.seen.get(v) != nil {
			t.Fatalf("refused variant %q was cached", v)
		}
	}
}

// TestReviewCacheIsPerManager: a token one Manager verified (and cached)
// is refused by a Manager with the same keys and another cookie name,
// whose MAC context differs; the caches are not shared.
func TestReviewCacheIsPerManager(t *testing.T) {
	keys := []Key{testKey(1)}
	a, err := New(Config{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{Keys: keys, Cookie: Cookie{Name: "__Host-other"}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Keys: keys, Header: "X-Session-Token", Cookie: Cookie{Name: "__Host-api"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.ids.seen == b.ids.seen || a.ids.seen == h.ids.seen {
		t.Fatal("two Managers share a cache")
	}
	var id sessionID
	id[0] = 3
	for _, from := range []*Manager{a, b, h} {
		tok := from.ids.sign(&id)
		if _, _, r := from.ids.open(tok); r != "" {
			t.Fatalf("own token refused: %q", r)
		}
		for _, to := range []*Manager{a, b, h} {
			if to == from {
				continue
			}
			for range 2 {
				if _, key, r := to.carrier.open(nil, tok); r != event.ReasonBadMAC || key != "" {
					t.Fatalf("a token of another MAC context opened: reason %q, key %q", r, key)
				}
			}
			if to.ids.seen.get(tok) != nil {
				t.Fatal("another Manager's token is in this Manager's cache")
			}
		}
	}
}

// TestReviewWarmCacheStillAsksTheStore: logout, rotation past its grace,
// and a login's renewal all end an ID while its token is cached; the
// cached token still costs a store load, and gives no access.
func TestReviewWarmCacheStillAsksTheStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rotatingFixture(t)
		c := f.client()
		c.get("/put?k=a&v=1")
		anon := c.cookie
		c.get("/get?k=a") // cached now
		if f.m.ids.seen.get(anon) == nil {
			t.Fatal("the presented token is not cached")
		}
		c.get("/login?u=alice")
		if c.cookie == anon {
			t.Fatal("login kept the ID")
		}
		c.get("/user")
		first := c.cookie
		if f.m.ids.seen.get(first) == nil {
			t.Fatal("the logged-in token is not cached")
		}

		// Rotation: the old token follows within the grace, is dead after.
		time.Sleep(16 * time.Minute)
		if got := c.get("/user"); got != "alice" || c.cookie == first {
			t.Fatalf("rotation: user %q, cookie changed %v", got, c.cookie != first)
		}
		second := c.cookie
		late := &client{f: f, cookie: first}
		if got := late.get("/user"); got != "alice" || late.cookie != second {
			t.Fatalf("within the grace the cached old token gave %q and cookie %.10q", got, late.cookie)
		}
		time.Sleep(31 * time.Second)
		for _, old := range []string{anon, first} {
			if f.m.ids.seen.get(old) == nil {
				t.Fatal("the old token left the cache; the test no longer shows a warm cache")
			}
			f.st.reset()
			if got := (&client{f: f, cookie: old}).get("/user"); got != "" {
				t.Errorf("a dead cached token gave user %q", got)
			}
			if f.st.loads.Load() == 0 {
				t.Error("a cached token skipped the store load")
			}
		}

		// Logout: the cached token of the destroyed session is refused
		// after a store load, and resurrects nothing.
		if got := c.get("/user"); got != "alice" || c.cookie != second {
			t.Fatalf("the rotated session: user %q", got)
		}
		if f.m.ids.seen.get(second) == nil {
			t.Fatal("the current token is not cached")
		}
		c.get("/logout")
		f.st.reset()
		before := f.events.countReason(event.Rejected, event.ReasonUnknown)
		if got := (&client{f: f, cookie: second}).get("/user"); got != "" {
			t.Errorf("a logged-out cached token gave user %q", got)
		}
		if f.st.loads.Load() != 1 || f.st.saves.Load() != 0 {
			t.Errorf("logged-out token: %d loads, %d saves; want 1, 0", f.st.loads.Load(), f.st.saves.Load())
		}
		if f.events.countReason(event.Rejected, event.ReasonUnknown) != before+1 {
			t.Error("a logged-out cached token was not refused as unknown")
		}
		if f.stored(second) {
			t.Error("the logged-out session's record is back")
		}
		if _, err := f.m.Open(context.Background(), second); err != ErrInvalidToken {
			t.Errorf("Open of a logged-out cached token: %v", err)
		}
	})
}

// TestReviewOpenAllocations: the forged-cookie path keeps its promise of
// no allocation (docs/SECURITY.md), and a cache hit allocates nothing.
func TestReviewOpenAllocations(t *testing.T) {
	m, err := New(Config{Keys: []Key{testKey(1)}})
	if err != nil {
		t.Fatal(err)
	}
	var id sessionID
	id[0] = 1
	tok := m.ids.sign(&id)
	forged := tok[:len(tok)-1] + string("AB"[btoi(tok[len(tok)-1] == 'A')])
	m.ids.open(tok)
	// Under the race detector sync.Pool drops entries, so the MAC's pooled
	// state allocates: only the cached path is counted there.
	if n := testing.AllocsPerRun(100, func() { m.ids.open(forged) }); n != 0 && !raceBuild() {
		t.Errorf("a forged token costs %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { m.ids.open(tok) }); n != 0 {
		t.Errorf("a cached token costs %v allocations", n)
	}
}

// TestReviewChurnUnderRace: many goroutines open more distinct tokens than
// the cache holds, so shards start over while others read them; every
// answer is the token's own ID. Run with -race.
func TestReviewChurnUnderRace(t *testing.T) {
	m, err := New(Config{Keys: []Key{testKey(1)}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2 * verifiedSlots
	toks := make([]string, n)
	ids := make([]sessionID, n)
	for i := range toks {
		ids[i][0], ids[i][1], ids[i][2] = byte(i), byte(i>>8), 7
		toks[i] = m.ids.sign(&ids[i])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for r := range n {
				i := (r*7 + g*1031) % n
				for range 2 {
					id, key, reason := m.ids.open(toks[i])
					if reason != "" || id != ids[i] || key != ids[i].hash() {
						t.Errorf("open(token %d) = %x, %q, %q", i, id, key, reason)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkReviewOpen compares open with verify plus the hash, for a
// client population the cache holds and one it does not.
func BenchmarkReviewOpen(b *testing.B) {
	for _, n := range []int{64, 100_000} {
		m, err := New(Config{Keys: []Key{testKey(1)}})
		if err != nil {
			b.Fatal(err)
		}
		toks := make([]string, n)
		for i := range toks {
			var id sessionID
			id[0], id[1], id[2] = byte(i), byte(i>>8), byte(i>>16)
			toks[i] = m.ids.sign(&id)
		}
		b.Run(fmt.Sprintf("open/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.ids.open(toks[i%n])
				i++
			}
		})
		b.Run(fmt.Sprintf("verify+hash/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				id, _ := m.ids.verify(toks[i%n])
				_ = id.hash()
				i++
			}
		})
	}
}
