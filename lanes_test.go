package keycard

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/keycard-go/keycard/event"
)

// Requests of one instance writing one session never conflict in the
// store: all of them load the same version, then each saves in exactly
// one compare-and-set, starting from what the one before stored, with no
// reload, no backoff and no lost update.
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
	if loads, saves := f.st.loads.Load(), f.st.saves.Load(); loads != 2*n || saves != 2*n {
		t.Errorf("%d writers of one version made %d loads and %d saves, want %d of each: one load and one compare-and-set apiece", 2*n, loads, saves, 2*n)
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
	l := ls.enter("old")
	defer l.leave()
	s := &Session{key: "old", data: []byte{1}}
	s.rec.Version = 7
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
