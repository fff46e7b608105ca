package keycard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Adversarial tests of group commit (groupcommit.go): what a batch does
// when a function panics, when its leader's request goes away, when it
// would pass MaxSize, and when the writers' records are not shared.

// wedgeLimit bounds how long a test waits for writers that should all
// finish; it only ever fires when some are stuck for good.
const wedgeLimit = 60 * time.Second

// waitAll waits for wg, failing the test if its goroutines are stuck.
func waitAll(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wedgeLimit):
		t.Fatalf("%s: writers still waiting after %v: the lane is wedged", what, wedgeLimit)
	}
}

// recovering runs fn, counting a panic instead of letting it crash the
// test binary (a handler's panic reaches the caller of ServeHTTP).
func recovering(panics *atomicCount, fn func()) func() {
	return func() {
		defer func() {
			if p := recover(); p != nil {
				panics.add()
			}
		}()
		fn()
	}
}

type atomicCount struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCount) add() { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *atomicCount) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// storedInt reads key from the record stored for cookie.
func storedInt(t *testing.T, f *fixture, cookie, key string) int {
	t.Helper()
	s, err := f.m.Open(context.Background(), cookie)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := Get[int](s, key)
	return n
}

// TestLaneTurnsSkipLoneWaitersAndFreeTheLane: leave hands the next turn
// to the first waiter with every later waiter that queued with changes as
// its batch; a waiter that queued without changes is not batched, gets a
// turn of its own only once the batch's turn is left, and the lane is
// forgotten when its last writer is done.
func TestLaneTurnsSkipLoneWaitersAndFreeTheLane(t *testing.T) {
	t.Parallel()
	var ls lanes
	hold, first := ls.enter("k", nil, nil)
	if first.own != nil || first.batch != nil || first.served != nil {
		t.Fatalf("the first writer got %+v, want a plain turn", first)
	}
	writer := func() *Session {
		return &Session{loaded: true, changed: keySet{"a"}, vals: map[string][]byte{"a": {1}}}
	}
	type entered struct {
		l *lane
		t laneTurn
	}
	sessions := []*Session{writer(), nil, writer()} // the middle one waits alone
	turns := make([]chan entered, len(sessions))
	for i, s := range sessions {
		turns[i] = make(chan entered, 1)
		go func() {
			l, t := ls.enter("k", s, nil)
			turns[i] <- entered{l, t}
		}()
		waitQueued(t, &ls, "k", i+1)
	}
	hold.leave()
	lead := <-turns[0]
	if lead.t.own == nil || len(lead.t.batch) != 1 || lead.t.batch[0].c == nil {
		t.Fatalf("the next turn is %+v, want own changes and a batch of one (the lone waiter left out)", lead.t)
	}
	lead.t.batch[0].turn <- laneTurn{served: &batchResult{}}
	served := <-turns[2]
	if served.t.served == nil {
		t.Fatalf("the batched writer got %+v, want served", served.t)
	}
	served.l.done()
	select {
	case e := <-turns[1]:
		t.Fatalf("the lone waiter got a turn (%+v) while the batch's turn held the lane", e.t)
	default:
	}
	lead.l.leave()
	alone := <-turns[1]
	if alone.t.own != nil || alone.t.batch != nil || alone.t.served != nil {
		t.Errorf("the lone waiter got %+v, want a plain turn", alone.t)
	}
	alone.l.leave()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l := ls.m["k"]; l != nil {
		t.Errorf("the lane outlives its writers: refs %d, busy %v, %d queued", l.refs, l.busy, len(l.queue))
	}
}

// TestBatchPanicFreesTheLane: a function that panics while a turn saves
// a batch (here the leader's own Update function) must not leave the
// lane held, nor the writers it was serving waiting forever: they save
// alone, and later writers of the session still get their turn.
func TestBatchPanicFreesTheLane(t *testing.T) {
	t.Parallel()
	f, gs, c, counts, errs := incFixture(t)
	key := f.hashOf(c.cookie)
	f.mux.HandleFunc("/boom", func(w http.ResponseWriter, r *http.Request) {
		Update(r.Context(), FromContext(r.Context()), "n", func(int) int { panic("boom") })
	})
	var panics atomicCount
	inc := recovering(&panics, func() { (&client{f: f, cookie: c.cookie}).get("/inc") })
	boom := recovering(&panics, func() { (&client{f: f, cookie: c.cookie}).get("/boom") })
	var wg sync.WaitGroup
	queueBehind(t, f, key, &wg, inc, boom, inc, inc) // boom leads the batch of two incs
	close(gs.gate)
	waitAll(t, &wg, "after a panic in a batch")
	if n := panics.get(); n != 1 {
		t.Errorf("%d requests panicked, want 1: the one whose function panicked", n)
	}
	wantIncrements(t, errs, counts, 3)
	var later sync.WaitGroup
	later.Go(func() { (&client{f: f, cookie: c.cookie}).get("/inc") })
	waitAll(t, &later, "a writer after the panic")
	if got := storedInt(t, f, c.cookie, "n"); got != 4 {
		t.Errorf("the counter reads %d, want 4", got)
	}
}

// TestLeaderGoneDoesNotFailItsBatch: when the request that leads a batch
// is cancelled (its client went away), the writers it serves, whose own
// requests are alive, must not fail with its context's error: saving
// alone, each would have succeeded.
func TestLeaderGoneDoesNotFailItsBatch(t *testing.T) {
	t.Parallel()
	f, gs, c, counts, errs := incFixture(t)
	key := f.hashOf(c.cookie)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inc := func() { (&client{f: f, cookie: c.cookie}).get("/inc") }
	gone := func() {
		r := httptest.NewRequestWithContext(ctx, "GET", "/inc", nil)
		r.Header.Set("Cookie", f.m.cfg.Cookie.Name+"="+c.cookie)
		f.h.ServeHTTP(httptest.NewRecorder(), r)
	}
	var wg sync.WaitGroup
	queueBehind(t, f, key, &wg, inc, gone, inc, inc) // gone leads the batch of two incs
	cancel()
	close(gs.gate)
	waitAll(t, &wg, "a cancelled leader")
	close(errs)
	var failed []error
	for err := range errs {
		failed = append(failed, err)
	}
	if len(failed) != 1 || !errors.Is(failed[0], context.Canceled) {
		t.Errorf("the Updates failed with %v, want only the cancelled request's context.Canceled", failed)
	}
	close(counts)
	var got []int
	for n := range counts {
		got = append(got, n)
	}
	slices.Sort(got)
	if want := []int{1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("the live Updates returned %v, want %v", got, want)
	}
	if got := storedInt(t, f, c.cookie, "n"); got != 3 {
		t.Errorf("the counter reads %d, want 3", got)
	}
}

// TestBatchedUpdatesKeepMaxSize: an Update saved in a batch is refused
// with ErrTooLarge, like one saved alone, when its value would take the
// session past MaxSize; the stored session never passes it.
func TestBatchedUpdatesKeepMaxSize(t *testing.T) {
	t.Parallel()
	gs := &gatedStore{countingStore: newCountingStore(), gate: make(chan struct{})}
	close(gs.gate)
	const maxSize, chunk = 200, 40 // "log" of 4 chunks fits (169 bytes), of 5 does not (209)
	f := newFixture(t, Config{Store: gs, MaxSize: maxSize})
	f.st = gs.countingStore
	lens, errs := make(chan int, 16), make(chan error, 16)
	f.mux.HandleFunc("/grow", func(w http.ResponseWriter, r *http.Request) {
		v, err := Update(r.Context(), FromContext(r.Context()), "log", func(v string) string { return v + strings.Repeat("x", chunk) })
		if err != nil {
			errs <- err
			return
		}
		lens <- len(v)
	})
	c := f.client()
	c.get("/login?u=alice")
	key := f.hashOf(c.cookie)
	gs.gate = make(chan struct{})
	grow := func() { (&client{f: f, cookie: c.cookie}).get("/grow") }
	var wg sync.WaitGroup
	queueBehind(t, f, key, &wg, grow, grow, grow, grow, grow, grow)
	close(gs.gate)
	waitAll(t, &wg, "growing writers")
	close(lens)
	close(errs)
	var got []int
	for n := range lens {
		got = append(got, n)
	}
	slices.Sort(got)
	if want := []int{chunk, 2 * chunk, 3 * chunk, 4 * chunk}; !slices.Equal(got, want) {
		t.Errorf("the Updates returned values of lengths %v, want %v", got, want)
	}
	tooLarge := 0
	for err := range errs {
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("an Update failed with %v, want ErrTooLarge", err)
		}
		tooLarge++
	}
	if tooLarge != 2 {
		t.Errorf("%d Updates were refused as too large, want 2", tooLarge)
	}
	rec, err := gs.countingStore.Load(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if size, _ := checkValues(rec.Data); size > maxSize {
		t.Errorf("the stored session holds %d bytes of values, past MaxSize %d", size, maxSize)
	}
}

// TestBatchedFailedUpdateLeavesItsSessionConsistent: a served writer whose
// Update fails (its value cannot be encoded) gets the error, does not see
// the value, and its request's other changes are stored; the batch's
// other writers are not affected.
func TestBatchedFailedUpdateLeavesItsSessionConsistent(t *testing.T) {
	t.Parallel()
	f, gs, c, counts, errs := incFixture(t)
	key := f.hashOf(c.cookie)
	bad := make(chan string, 1)
	f.mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if err := s.Put("side", "kept"); err != nil {
			t.Error(err)
		}
		_, err := Update(r.Context(), s, "bad", func(unencodable) unencodable { return unencodable{} })
		_, has := Get[unencodable](s, "bad")
		bad <- fmt.Sprint(err != nil, has)
	})
	inc := func() { (&client{f: f, cookie: c.cookie}).get("/inc") }
	var wg sync.WaitGroup
	queueBehind(t, f, key, &wg, inc, inc, func() { (&client{f: f, cookie: c.cookie}).get("/bad") }, inc)
	close(gs.gate)
	waitAll(t, &wg, "a failed Update in a batch")
	if got := <-bad; got != "true false" {
		t.Errorf("the failing Update: error, value present = %s, want true false", got)
	}
	wantIncrements(t, errs, counts, 3)
	if got := storedInt(t, f, c.cookie, "n"); got != 3 {
		t.Errorf("the counter reads %d, want 3", got)
	}
	if got := c.get("/get?k=side"); got != "kept" {
		t.Errorf("the failing writer's other change reads %q, want kept", got)
	}
	s, err := f.m.Open(context.Background(), c.cookie)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(s.Keys(), "bad") {
		t.Error("the value whose Update failed was stored")
	}
}

// unencodable is a value the CBOR codec refuses to encode.
type unencodable struct{}

func (unencodable) MarshalCBOR() ([]byte, error) { return nil, errors.New("cannot encode") }

// TestBatchedClearsAndDeletesActAsAlone: a batch applies a writer that
// cleared the session and one that deleted a key as saving alone in turn
// would: the clear drops what was stored before it, including the write
// of the turn before, and the later writers' changes stand.
func TestBatchedClearsAndDeletesActAsAlone(t *testing.T) {
	t.Parallel()
	f, gs, c, _, _ := incFixture(t)
	key := f.hashOf(c.cookie)
	close(gs.gate)
	c.get("/put?k=old&v=1")
	c.get("/put?k=gone&v=1")
	gs.gate = make(chan struct{})
	f.mux.HandleFunc("/clear-put", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Clear()
		s.Put("mine", "a")
	})
	f.mux.HandleFunc("/del", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Delete(r.URL.Query().Get("k"))
	})
	get := func(target string) func() { return func() { (&client{f: f, cookie: c.cookie}).get(target) } }
	stage := func(first string, rest ...string) {
		t.Helper()
		gs.gate = make(chan struct{})
		var fns []func()
		for _, r := range rest {
			fns = append(fns, get(r))
		}
		var wg sync.WaitGroup
		queueBehind(t, f, key, &wg, get(first), fns...)
		close(gs.gate)
		waitAll(t, &wg, "writers of "+first)
	}
	keys := func() []string {
		s, err := f.m.Open(context.Background(), c.cookie)
		if err != nil {
			t.Fatal(err)
		}
		return s.Keys()
	}
	stage("/put?k=first&v=1", "/del?k=gone", "/put?k=after&v=b")
	if got, want := keys(), []string{"after", "first", "old"}; !slices.Equal(got, want) {
		t.Errorf("after a batch with a delete, the session holds %v, want %v", got, want)
	}
	stage("/put?k=second&v=1", "/clear-put", "/put?k=last&v=c")
	if got, want := keys(), []string{"last", "mine"}; !slices.Equal(got, want) {
		t.Errorf("after a batch with a clear, the session holds %v, want %v", got, want)
	}
}

// TestSealedWritersAreNotBatched: in sealed mode each request's record
// lives in its own cookie, so a writer served by another request's batch
// would have its change saved in that request's cookie only. An Update's
// result must be what its own response's cookie holds.
func TestSealedWritersAreNotBatched(t *testing.T) {
	t.Parallel()
	f := newSealedFixture(t, Config{})
	results := make(chan string, 4)
	f.mux.HandleFunc("/hash", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).Info().Hash))
	})
	f.mux.HandleFunc("/n", func(w http.ResponseWriter, r *http.Request) {
		n, _ := Get[int](FromContext(r.Context()), "n")
		w.Write([]byte(strconv.Itoa(n)))
	})
	f.mux.HandleFunc("/inc-put", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		n, err := Update(r.Context(), s, "n", func(n int) int { return n + 1 })
		if err != nil {
			t.Error(err)
		}
		s.Put("after", "1")
		results <- strconv.Itoa(n)
	})
	c := f.client()
	c.get("/put?k=a&v=1")
	key := c.get("/hash")
	if key == "" {
		t.Fatal("the sealed session has no key")
	}
	hold, _ := f.m.lanes.enter(key, nil, nil) // a writer in flight
	clients := []*client{{f: f, cookie: c.cookie}, {f: f, cookie: c.cookie}}
	var wg sync.WaitGroup
	for i, w := range clients {
		wg.Go(func() { w.get("/inc-put") })
		waitQueued(t, &f.m.lanes, key, i+1)
	}
	hold.leave()
	waitAll(t, &wg, "sealed writers")
	close(results)
	var returned []string
	for n := range results {
		returned = append(returned, n)
	}
	var held []string
	for _, w := range clients {
		held = append(held, w.get("/n"))
	}
	slices.Sort(returned)
	slices.Sort(held)
	if !slices.Equal(returned, held) {
		t.Errorf("the Updates returned %v, but their responses' cookies hold %v", returned, held)
	}
}

// wantIncrements closes errs, reports each error in it, and checks that n
// increments succeeded.
func wantIncrements(t *testing.T, errs chan error, counts chan int, n int) {
	t.Helper()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(counts) != n {
		t.Errorf("%d increments succeeded, want %d", len(counts), n)
	}
}
