package keycard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// Requests of one instance writing one session never conflict in the
// store: all of them load the same version, then each turn saves in one
// compare-and-set (for one writer, or for all that queued behind the turn
// before), starting from what the turn before stored, with no reload, no
// backoff and no lost update.
func TestOneInstancesWritersTakeTurnsWithoutConflicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	const n = 32
	var loaded sync.WaitGroup
	loaded.Add(2 * n)
	release := make(chan struct{})
	wait := func(r *http.Request) {
		Get[int](FromContext(r.Context()), "n") // load the session now
		loaded.Done()
		<-release
	}
	f.mux.HandleFunc("/hot-put", func(w http.ResponseWriter, r *http.Request) {
		wait(r)
		FromContext(r.Context()).Put(r.URL.Query().Get("k"), 1)
	})
	f.mux.HandleFunc("/hot-count", func(w http.ResponseWriter, r *http.Request) {
		wait(r)
		if _, err := Update(r.Context(), FromContext(r.Context()), "n", func(n int) int { return n + 1 }); err != nil {
			t.Error(err)
		}
	})
	c := f.client()
	c.get("/login?u=alice")
	f.st.reset()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { (&client{f: f, cookie: c.cookie}).get(fmt.Sprintf("/hot-put?k=k%02d", i)) })
		wg.Go(func() { (&client{f: f, cookie: c.cookie}).get("/hot-count") })
	}
	loaded.Wait()
	close(release)
	wg.Wait()
	if loads, saves := f.st.loads.Load(), f.st.saves.Load(); loads != 2*n || saves < 1 || saves > 2*n {
		t.Errorf("%d writers of one version made %d loads and %d saves, want %d loads and 1 to %d saves: one load apiece, and at most one compare-and-set", 2*n, loads, saves, 2*n, 2*n)
	}
	if k := f.events.count(event.Conflict); k != 0 {
		t.Errorf("got %d conflict events among one instance's writers, want 0", k)
	}
	s, err := f.m.Open(t.Context(), c.cookie)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Get[int](s, "n")
	if keys := len(s.Keys()); got != n || keys != n+1 {
		t.Errorf("got counter %d and %d keys, want %d and %d: updates were lost", got, keys, n, n+1)
	}
}

// A lane offers its key's recent write only to a writer that still holds
// the session under that key: one whose reload followed a rotation to
// another key must not rebase onto the old key's record.
func TestLaneIsAheadOnlyForItsOwnKey(t *testing.T) {
	t.Parallel()
	var ls lanes
	l, _ := ls.enter("old", nil, nil)
	defer l.leave()
	s := &Session{key: "old"}
	s.rec.Version, s.rec.Data = 7, []byte{1}
	l.record(s)
	if _, ok := l.ahead("old", 3); !ok {
		t.Fatal("the lane's own key at an older version is not behind its recent write")
	}
	if _, ok := l.ahead("new", 3); ok {
		t.Error("a writer now under another key was offered the old key's record")
	}
	if _, ok := l.ahead("old", 7); ok {
		t.Error("a writer at the recent write's version was offered it again")
	}
}

// gatedStore holds every Save until the test lets it go, so that writers
// queue in a lane behind the one saving.
// Before the save numbered hookAt (from 1), hook runs.
type gatedStore struct {
	*countingStore
	gate   chan struct{}
	saves  atomic.Int64
	hookAt int64
	hook   func()
}

func (g *gatedStore) Save(ctx context.Context, key string, rec *store.Record) error {
	<-g.gate
	if g.saves.Add(1) == g.hookAt {
		g.hook()
	}
	return g.countingStore.Save(ctx, key, rec)
}

// queueBehind starts first, waits until it holds key's lane (its save held
// at gs's gate), then starts each of rest, waiting until it has queued.
func queueBehind(t *testing.T, f *fixture, key string, wg *sync.WaitGroup, first func(), rest ...func()) {
	t.Helper()
	wg.Go(first)
	for i := 0; ; i++ {
		f.m.lanes.mu.Lock()
		l := f.m.lanes.m[key]
		busy := l != nil && l.busy
		f.m.lanes.mu.Unlock()
		if busy {
			break
		}
		if i > 10000 {
			t.Fatal("the first writer never took the lane")
		}
		time.Sleep(time.Millisecond)
	}
	for i, r := range rest {
		wg.Go(r)
		waitQueued(t, &f.m.lanes, key, i+1)
	}
}

// waitQueued waits until n writers wait in key's lane.
func waitQueued(t *testing.T, ls *lanes, key string, n int) {
	t.Helper()
	for i := 0; ; i++ {
		ls.mu.Lock()
		q := 0
		if l := ls.m[key]; l != nil {
			q = len(l.queue)
		}
		ls.mu.Unlock()
		if q == n {
			return
		}
		if i > 10000 {
			t.Fatalf("%d writers queued, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestQueuedWritersAreSavedTogether: while one writer's save is in
// flight, the writers that queue behind it (Updates and plain changes)
// are saved by the next turn in one compare-and-set; every Update returns
// a distinct count, as if they had run one after another, and nothing is
// lost.
func TestQueuedWritersAreSavedTogether(t *testing.T) {
	t.Parallel()
	gs := &gatedStore{countingStore: newCountingStore(), gate: make(chan struct{})}
	close(gs.gate)
	f := newFixture(t, Config{Store: gs})
	f.st = gs.countingStore
	counts := make(chan int, 64)
	f.mux.HandleFunc("/inc", func(w http.ResponseWriter, r *http.Request) {
		n, err := Update(r.Context(), FromContext(r.Context()), "n", func(n int) int { return n + 1 })
		if err != nil {
			t.Error(err)
		}
		counts <- n
	})
	c := f.client()
	c.get("/login?u=alice")
	key := f.hashOf(c.cookie)
	gs.gate = make(chan struct{})
	f.st.reset()
	const updates, puts = 8, 4
	var wg sync.WaitGroup
	inc := func() { (&client{f: f, cookie: c.cookie}).get("/inc") }
	var rest []func()
	for range updates - 1 {
		rest = append(rest, inc)
	}
	for i := range puts {
		rest = append(rest, func() { (&client{f: f, cookie: c.cookie}).get(fmt.Sprintf("/put?k=p%d&v=%d", i, i)) })
	}
	queueBehind(t, f, key, &wg, inc, rest...)
	close(gs.gate)
	wg.Wait()
	close(counts)
	var got []int
	for n := range counts {
		got = append(got, n)
	}
	slices.Sort(got)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("the Updates returned %v, want %v", got, want)
	}
	if saves := f.st.saves.Load(); saves != 2 {
		t.Errorf("%d writers made %d saves, want 2: the first turn's and one for all that queued behind it", updates+puts, saves)
	}
	if k := f.events.count(event.Conflict); k != 0 {
		t.Errorf("got %d conflict events, want 0", k)
	}
	s, err := f.m.Open(t.Context(), c.cookie)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := Get[int](s, "n"); got != updates {
		t.Errorf("the counter reads %d, want %d", got, updates)
	}
	for i := range puts {
		if got := c.get(fmt.Sprintf("/get?k=p%d", i)); got != fmt.Sprint(i) {
			t.Errorf("p%d reads %q, want %d", i, got, i)
		}
	}
}

// incFixture serves /inc, an Update of "n" whose results go to counts and
// errors to errs, over a gated store, with alice signed in.
func incFixture(t *testing.T) (f *fixture, gs *gatedStore, c *client, counts chan int, errs chan error) {
	gs = &gatedStore{countingStore: newCountingStore(), gate: make(chan struct{})}
	close(gs.gate)
	f = newFixture(t, Config{Store: gs})
	f.st = gs.countingStore
	counts, errs = make(chan int, 64), make(chan error, 64)
	f.mux.HandleFunc("/inc", func(w http.ResponseWriter, r *http.Request) {
		n, err := Update(r.Context(), FromContext(r.Context()), "n", func(n int) int { return n + 1 })
		if err != nil {
			errs <- err
			return
		}
		counts <- n
	})
	c = f.client()
	c.get("/login?u=alice")
	gs.gate = make(chan struct{})
	gs.saves.Store(0)
	return f, gs, c, counts, errs
}

// TestBatchRecomputesAfterAnotherInstanceWrote: when another instance
// writes the session while a batch is being saved, the batch's
// compare-and-set fails, and the batch starts again from the stored
// record, running each Update's function again: no increment is lost or
// counted twice.
func TestBatchRecomputesAfterAnotherInstanceWrote(t *testing.T) {
	t.Parallel()
	f, gs, c, counts, errs := incFixture(t)
	key := f.hashOf(c.cookie)
	gs.hookAt = 2 // the batch's save: another instance increments first
	gs.hook = func() {
		rec, err := gs.countingStore.Load(context.Background(), key)
		if err != nil {
			t.Error(err)
			return
		}
		vals := decodeValues(rec.Data)
		var n int
		if raw, ok := vals["n"]; ok {
			f.m.cfg.Codec.Unmarshal(raw, &n)
		}
		vals["n"], _ = f.m.cfg.Codec.Marshal(n + 100)
		rec.Data = encodeValues(vals)
		if err := gs.countingStore.Save(context.Background(), key, rec); err != nil {
			t.Error(err)
		}
	}
	inc := func() { (&client{f: f, cookie: c.cookie}).get("/inc") }
	var wg sync.WaitGroup
	queueBehind(t, f, key, &wg, inc, inc, inc, inc, inc)
	close(gs.gate)
	wg.Wait()
	close(counts)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var got []int
	for n := range counts {
		got = append(got, n)
	}
	slices.Sort(got)
	if want := []int{1, 102, 103, 104, 105}; !slices.Equal(got, want) {
		t.Errorf("the Updates returned %v, want %v", got, want)
	}
	if k := f.events.count(event.Conflict); k != 1 {
		t.Errorf("got %d conflict events, want 1", k)
	}
}

// TestBatchOfARenewedSessionSavesAlone: when another instance renews the
// session while a batch is being saved, each writer of the batch takes
// its own turn, finds the session gone from its ID, and says so; nothing
// is written under the old ID.
func TestBatchOfARenewedSessionSavesAlone(t *testing.T) {
	t.Parallel()
	f, gs, c, counts, errs := incFixture(t)
	key := f.hashOf(c.cookie)
	instance := newFixture(t, Config{Store: gs}) // another instance on the same store
	// The batch's save: another instance renews first.
	gs.hookAt, gs.hook = 2, func() {
		s, err := instance.m.Open(context.Background(), c.cookie)
		if err == nil {
			err = instance.m.Renew(context.Background(), s)
		}
		if err != nil {
			t.Error(err)
		}
	}
	inc := func() { (&client{f: f, cookie: c.cookie}).get("/inc") }
	var wg sync.WaitGroup
	queueBehind(t, f, key, &wg, inc, inc, inc, inc)
	close(gs.gate)
	wg.Wait()
	close(counts)
	close(errs)
	if got := len(counts); got != 1 {
		t.Errorf("%d Updates succeeded, want 1: the first, before the renewal", got)
	}
	n := 0
	for err := range errs {
		n++
		if !errors.Is(err, ErrSessionGone) {
			t.Errorf("an Update of the renewed session failed with %v, want ErrSessionGone", err)
		}
	}
	if n != 3 {
		t.Errorf("%d Updates failed, want 3", n)
	}
	rec, err := gs.countingStore.Load(context.Background(), key)
	if err != nil || !IsTombstone(rec) {
		t.Errorf("the old ID holds %v (err %v), want the renewal's marker", rec, err)
	}
}
