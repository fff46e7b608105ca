package keycard

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard/store"
)

// batchStore is a countingStore that can batch (store.Batcher), through
// the memory store's SaveBatch. before, if set, runs at the start of the
// next batch only; unsupported makes every batch report
// store.ErrUnsupported.
type batchStore struct {
	*countingStore
	batches     atomic.Int64
	before      func()
	unsupported bool
}

func (b *batchStore) SaveBatch(ctx context.Context, entries []store.Entry) error {
	b.batches.Add(1)
	if f := b.before; f != nil {
		b.before = nil
		f()
	}
	if b.unsupported {
		return store.ErrUnsupported
	}
	return b.Store.(store.Batcher).SaveBatch(ctx, entries)
}

func batchFixture(t *testing.T, cfg Config) (*fixture, *batchStore) {
	b := &batchStore{countingStore: newCountingStore()}
	cfg.Store = b
	f := newFixture(t, cfg)
	f.st = b.countingStore
	return f, b
}

// calls counts the store calls of one request.
func (b *batchStore) calls(do func()) string {
	l, s, d, n := b.loads.Load(), b.saves.Load(), b.deletes.Load(), b.batches.Load()
	do()
	return fmt.Sprintf("%d loads, %d saves, %d deletes, %d batches",
		b.loads.Load()-l, b.saves.Load()-s, b.deletes.Load()-d, b.batches.Load()-n)
}

// TestRenewalIsOneStoreCall: with a store that can batch, a login that
// renews a stored session, and a later one that renews it again, each
// cost the request's load and one batch; the old ID is left a marker
// and stops working, and the data moves with the session.
func TestRenewalIsOneStoreCall(t *testing.T) {
	f, b := batchFixture(t, Config{})
	c := f.client()
	c.get("/put?k=a&v=1")
	for _, u := range []string{"alice", "alice"} {
		old := c.cookie
		if got, want := b.calls(func() { c.get("/login?u=" + u) }), "1 loads, 0 saves, 0 deletes, 1 batches"; got != want {
			t.Errorf("login: %s, want %s", got, want)
		}
		if c.cookie == old {
			t.Fatal("login kept the session ID")
		}
		rec, err := f.st.Store.Load(context.Background(), f.hashOf(old))
		if err != nil || !IsTombstone(rec) {
			t.Errorf("the old ID holds %v (err %v), want a renewal marker", rec, err)
		}
		if got := (&client{f: f, cookie: old}).get("/user"); got != "" {
			t.Errorf("the old ID still works: user %q", got)
		}
		if got := c.get("/get?k=a"); got != "1" {
			t.Errorf("the renewed session reads %q, want 1", got)
		}
		if got := c.get("/user"); got != "alice" {
			t.Errorf("the renewed session's user is %q", got)
		}
	}
	infos, err := f.m.Sessions(context.Background(), "alice")
	if err != nil || len(infos) != 1 || infos[0].Hash != f.hashOf(c.cookie) {
		t.Errorf("alice's sessions: %v (err %v), want the current one alone", infos, err)
	}
}

// TestRotationIsOneStoreCall: a periodic rotation with a store that can
// batch costs one batch beside the request's load, and the grace period
// still serves the old ID.
func TestRotationIsOneStoreCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, b := batchFixture(t, Config{
			Timeouts:    Timeouts{Idle: time.Hour, Absolute: 8 * time.Hour},
			RotateEvery: 15 * time.Minute, RotationGrace: 30 * time.Second,
		})
		c := f.client()
		c.get("/login?u=alice")
		c.get("/put?k=a&v=1")
		first := c.cookie
		time.Sleep(16 * time.Minute)
		if got, want := b.calls(func() { c.get("/get?k=a") }), "1 loads, 0 saves, 0 deletes, 1 batches"; got != want {
			t.Errorf("rotating read: %s, want %s", got, want)
		}
		if c.cookie == first {
			t.Fatal("no rotation after RotateEvery")
		}
		late := &client{f: f, cookie: first}
		if got := late.get("/get?k=a"); got != "1" || late.cookie != c.cookie {
			t.Errorf("the old ID in the grace period read %q and got cookie %.10q, want 1 and the rotated one", got, late.cookie)
		}
	})
}

// TestRenewalFallsBackWhenTheBatchCannot: a batch that conflicts because
// another request wrote to the session in the meantime, or that the store
// cannot run, leaves the renewal to one save at a time, which keeps the
// other request's write.
func TestRenewalFallsBackWhenTheBatchCannot(t *testing.T) {
	t.Run("conflict", func(t *testing.T) {
		f, b := batchFixture(t, Config{})
		c := f.client()
		c.get("/put?k=a&v=1")
		instance := newFixture(t, Config{Store: b}) // another instance on the same store
		other := &client{f: instance, cookie: c.cookie}
		b.before = func() {
			// A request to the other instance writes meanwhile.
			r := httptest.NewRequest("GET", "/put?k=b&v=2", nil)
			r.Header.Set("Cookie", f.m.cfg.Cookie.Name+"="+other.cookie)
			instance.h.ServeHTTP(httptest.NewRecorder(), r)
		}
		c.get("/login?u=alice")
		if got := c.get("/get?k=b"); got != "2" {
			t.Errorf("the write made during the renewal was lost: b = %q", got)
		}
		if got := c.get("/get?k=a") + c.get("/user"); got != "1alice" {
			t.Errorf("after the renewal: %q, want 1alice", got)
		}
	})
	t.Run("unsupported", func(t *testing.T) {
		f, b := batchFixture(t, Config{})
		b.unsupported = true
		c := f.client()
		c.get("/put?k=a&v=1")
		if got, want := b.calls(func() { c.get("/login?u=alice") }), "1 loads, 2 saves, 0 deletes, 1 batches"; got != want {
			t.Errorf("login: %s, want %s", got, want)
		}
		if got := c.get("/get?k=a") + c.get("/user"); got != "1alice" {
			t.Errorf("after the renewal: %q, want 1alice", got)
		}
	})
}

// countingReader counts the IDs drawn from crypto/rand through it.
type countingReader struct{ reads atomic.Int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	r.reads.Add(1)
	return rand.Read(p)
}

// TestRenewalWithoutBatchDrawsOneID: with a store that cannot batch, the
// bounded store the Manager wraps it in claims no batching either, so a
// signed-in renewal goes straight to one save at a time: one ID drawn,
// two saves, no batch tried.
func TestRenewalWithoutBatchDrawsOneID(t *testing.T) {
	ids := &countingReader{}
	st := newCountingStore()
	f := newFixture(t, Config{Store: st, IDSource: ids})
	if _, ok := f.m.sessionStore.(store.Batcher); ok {
		t.Fatalf("the Manager's store (%T) claims store.Batcher over a store that has none", f.m.sessionStore)
	}
	c := f.client()
	c.get("/login?u=alice")
	draws, saves := ids.reads.Load(), st.saves.Load()
	c.get("/login?u=alice")
	if got := ids.reads.Load() - draws; got != 1 {
		t.Errorf("a signed-in renewal drew %d IDs, want 1", got)
	}
	if got := st.saves.Load() - saves; got != 2 {
		t.Errorf("a signed-in renewal made %d saves, want 2 (the new record, the old one's marker)", got)
	}
	if got := c.get("/user"); got != "alice" {
		t.Errorf("after the renewal the user is %q", got)
	}
}

// TestTimedStoreKeepsBatcher: over a store that can batch, the bounded
// store keeps store.Batcher, and its batches reach the store.
func TestTimedStoreKeepsBatcher(t *testing.T) {
	f, b := batchFixture(t, Config{StoreTimeout: time.Minute})
	if _, ok := f.m.sessionStore.(store.Batcher); !ok {
		t.Fatalf("the Manager's store (%T) lost store.Batcher", f.m.sessionStore)
	}
	c := f.client()
	c.get("/login?u=alice")
	if got, want := b.calls(func() { c.get("/login?u=alice") }), "1 loads, 0 saves, 0 deletes, 1 batches"; got != want {
		t.Errorf("login: %s, want %s", got, want)
	}
}
