package memcached_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memcached"
)

// The tests in this file read the server's own counters, which every
// client of the server moves, so they do not run in parallel with the
// package's other tests (Go runs parallel tests only after the sequential
// ones).

// counters are the stats that count the commands a store sends. Every
// command is one round trip, except that cmd_get counts keys, so a get of
// several keys counts each.
var counters = []string{"cmd_get", "cmd_set", "cmd_touch", "delete_hits", "delete_misses", "cas_hits", "cas_badval", "cas_misses"}

// delta returns how much each counter moved while fn ran.
func delta(t *testing.T, fn func()) map[string]int64 {
	t.Helper()
	before := stats(t, "")
	fn()
	after := stats(t, "")
	d := make(map[string]int64, len(counters))
	for _, name := range counters {
		if n := after[name] - before[name]; n != 0 {
			d[name] = n
		}
	}
	return d
}

// instance is a Manager over a memcached store, serving a handler that
// reads ("/get"), writes ("/put") or does nothing with the session.
type instance struct {
	h      http.Handler
	cookie *http.Cookie
}

func newInstance(t *testing.T) *instance {
	st := memcached.New(newClient(t), memcached.Config{Prefix: newPrefix()})
	m, err := keycard.New(keycard.Config{Store: st, Keys: []keycard.Key{keycard.NewKey()}, OnEvent: func(event.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := keycard.Get[string](keycard.FromContext(r.Context()), "greeting")
		fmt.Fprint(w, v)
	})
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		if err := keycard.FromContext(r.Context()).Put("greeting", r.FormValue("v")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return &instance{h: m.Handler(mux)}
}

// do serves one request with the instance's cookie and keeps the cookie
// it sets.
func (in *instance) do(t *testing.T, target string) string {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	if in.cookie != nil {
		r.AddCookie(in.cookie)
	}
	w := httptest.NewRecorder()
	in.h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", target, w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		in.cookie = c
	}
	return w.Body.String()
}

// TestManagerRequestRoundTrips counts, with the server's own counters, the
// commands one Manager request sends: a read is one get; a write is the
// load's get, then the save's get and compare-and-swap.
func TestManagerRequestRoundTrips(t *testing.T) {
	in := newInstance(t)
	in.do(t, "/get") // warm up: dial the connections
	tests := []struct {
		name   string
		target string
		want   map[string]int64
	}{
		{"create request (first write)", "/put?v=hello", map[string]int64{"cmd_set": 1}},
		{"read request", "/get", map[string]int64{"cmd_get": 1}},
		{"write request", "/put?v=again", map[string]int64{"cmd_get": 2, "cmd_set": 1, "cas_hits": 1}},
		{"read request after the write", "/get", map[string]int64{"cmd_get": 1}},
	}
	for _, tt := range tests {
		d := delta(t, func() { in.do(t, tt.target) })
		t.Logf("%s: %v", tt.name, d)
		if fmt.Sprint(d) != fmt.Sprint(tt.want) {
			t.Errorf("%s: counters moved by %v, want %v", tt.name, d, tt.want)
		}
	}
	if got := in.do(t, "/get"); got != "again" {
		t.Errorf("read %q, want %q", got, "again")
	}
}

// TestStoreCallRoundTrips counts the commands of each store method on a
// record that fits in one item.
func TestStoreCallRoundTrips(t *testing.T) {
	f := newFixture(t, memcached.Config{})
	key := keyOf("counted")
	rec := record([]byte("x"))
	tests := []struct {
		name string
		call func() error
		want map[string]int64
	}{
		{"Save(version 0)", func() error { return f.s.Save(f.ctx, key, rec) }, map[string]int64{"cmd_set": 1}},
		{"Load", func() error { _, err := f.s.Load(f.ctx, key); return err }, map[string]int64{"cmd_get": 1}},
		{"Save(version 1)", func() error {
			r := rec.Clone()
			r.Version = 1
			return f.s.Save(f.ctx, key, r)
		}, map[string]int64{"cmd_get": 1, "cmd_set": 1, "cas_hits": 1}},
		{"Touch", func() error { return f.s.Touch(f.ctx, key, time.Now(), time.Now().Add(time.Hour)) }, map[string]int64{"cmd_get": 1, "cmd_set": 1, "cas_hits": 1}},
		{"Delete", func() error { return f.s.Delete(f.ctx, key) }, map[string]int64{"cmd_get": 1, "delete_hits": 1}},
		{"Delete of an absent key", func() error { return f.s.Delete(f.ctx, key) }, map[string]int64{"cmd_get": 1}},
	}
	for _, tt := range tests {
		var err error
		d := delta(t, func() { err = tt.call() })
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		t.Logf("%s: %v", tt.name, d)
		if fmt.Sprint(d) != fmt.Sprint(tt.want) {
			t.Errorf("%s: counters moved by %v, want %v", tt.name, d, tt.want)
		}
	}
}

// TestBytesPerSession measures what 10,000 sessions with 200 bytes of data
// cost the server: the item bytes memcached counts ("bytes"), and the slab
// memory their items occupy (each item takes a whole chunk of its slab
// class).
func TestBytesPerSession(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 sessions")
	}
	const n = 10_000
	f := newFixture(t, memcached.Config{})
	rec := record(bytes.Repeat([]byte("0123456789"), 20))
	rec.UserID = "user-123456"
	rec.AuthTime = rec.Created
	rec.IP = "203.0.113.7"
	rec.UserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	keys := make([]string, n)
	for i := range keys {
		keys[i] = keyOf(fmt.Sprintf("session %d", i))
	}

	before, slabsBefore := stats(t, ""), slabBytes(t)
	forEach(t, keys, func(key string) error { return f.s.Save(f.ctx, key, rec) })
	after, slabsAfter := stats(t, ""), slabBytes(t)
	itemBytes := float64(after["bytes"]-before["bytes"]) / n
	slab := float64(slabsAfter-slabsBefore) / n
	t.Logf("%d sessions with %d bytes of data (%d-byte value): %.0f item bytes and %.0f bytes of slab chunks per session",
		n, len(rec.Data), len(store.EncodeRecord(rec))+9, itemBytes, slab)
	if itemBytes < 200 || itemBytes > 1024 {
		t.Errorf("got %.0f item bytes per session, want between 200 and 1024", itemBytes)
	}
	forEach(t, keys, func(key string) error { return f.s.Delete(f.ctx, key) })
}

// slabBytes returns the memory of the slab chunks in use, summed over
// slab classes.
func slabBytes(t *testing.T) int64 {
	s := stats(t, "slabs")
	var total int64
	for class := 1; class < 64; class++ {
		size, used := s[fmt.Sprintf("%d:chunk_size", class)], s[fmt.Sprintf("%d:used_chunks", class)]
		total += size * used
	}
	return total
}

// forEach calls fn for every key from 8 goroutines, failing the test on
// the first error.
func forEach(t *testing.T, keys []string, fn func(key string) error) {
	t.Helper()
	ch := make(chan string)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range 8 {
		wg.Go(func() {
			for key := range ch {
				if err := fn(key); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	for _, key := range keys {
		ch <- key
	}
	close(ch)
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
}
