package bench

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard/bench/internal/load"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// TestWorkloads runs the HTTP workloads of run.sh in short form (a few
// hundred requests, no timing) against every implementation served on
// loopback, and checks what they count, never how fast: every request is
// measured, a hot session is one session that every connection writes, and
// the lost-update count adds up. Keycard, whose writes are atomic, loses
// none; a server that keeps nothing (bare, bare-headers) loses every one;
// the peers may lose some.
func TestWorkloads(t *testing.T) {
	const n = 160
	for _, bi := range implementations() {
		if bi.backend == "cookie" {
			continue // run.sh serves no cookie implementation over HTTP
		}
		t.Run(bi.backend+"/"+bi.lib, func(t *testing.T) {
			impl, _ := bi.make(t, false)
			defer impl.Close()
			srv := httptest.NewServer(impl.Handler)
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			for _, w := range []struct {
				path, session string
				conns         int
			}{
				{"/read", load.Hot, 8},
				{"/read", load.Spread, 4},
				{"/write", load.Hot, 8},
				{"/write", load.Spread, 4},
			} {
				write := w.path == "/write"
				if write && bi.lib == "bare+get" {
					continue // the floor of a read
				}
				res, err := load.Run(load.Config{
					Host: host, Path: w.path, Conns: w.conns, Session: w.session,
					Count: n, Duration: time.Minute, Lost: write, PID: os.Getpid(),
				})
				if err != nil {
					t.Fatalf("%s %s: %v", w.session, w.path, err)
				}
				if res.CPU < 0 {
					t.Errorf("%s %s: server CPU per request %v µs", w.session, w.path, res.CPU)
				}
				if res.Requests != n || res.Errors != 0 {
					t.Errorf("%s %s: %d requests, %d errors (%v), want %d and none", w.session, w.path, res.Requests, res.Errors, res.Status, n)
				}
				if !write {
					continue
				}
				if res.Lost == nil || res.Acked != n || res.Acked-res.Survived != *res.Lost {
					t.Fatalf("%s %s: acknowledged %d, survived %d, lost %v; want %d acknowledged and lost = the difference", w.session, w.path, res.Acked, res.Survived, res.Lost, n)
				}
				t.Logf("%s %s: %d of %d increments lost", w.session, w.path, *res.Lost, res.Acked)
				switch {
				case bi.lib == "bare" || bi.lib == "bare-headers":
					if *res.Lost != n {
						t.Errorf("%s %s: %s lost %d of %d, want all: it keeps no counter", w.session, w.path, bi.lib, *res.Lost, n)
					}
				case bi.lib == "keycard":
					// On a hot session this also shows that every connection
					// wrote one session: the first one's counter holds all.
					if *res.Lost != 0 {
						t.Errorf("%s %s: Keycard lost %d of %d increments, want none", w.session, w.path, *res.Lost, n)
					}
				case w.session == load.Spread:
					// One connection per session sends its requests in
					// turn: nothing races, nothing is lost.
					if *res.Lost != 0 {
						t.Errorf("%s %s: %s lost %d of %d increments on sessions of their own, want none", w.session, w.path, bi.lib, *res.Lost, n)
					}
				case *res.Lost < 0:
					t.Errorf("%s %s: %d survived of %d acknowledged", w.session, w.path, res.Survived, n)
				}
			}
		})
	}
}

// TestHotWriteTwoInstances runs the hot write over two Keycard instances
// (two Managers with the same fixed key, each behind its own loopback
// server) that share one store, so their compare-and-sets race each other
// on one record as two processes on one Redis do: no increment may be
// lost, and both instances must have served writes. It runs on the memory
// store, and on Redis when one is available.
func TestHotWriteTwoInstances(t *testing.T) {
	const n = 400
	stores := map[string]func(t *testing.T) store.Store{
		"memory": func(t *testing.T) store.Store { return memory.New(memory.Config{}) },
		"redis": func(t *testing.T) store.Store {
			addr, prefix := redisFor(t)
			st, closeClient, err := KeycardRedisStore(addr, prefix)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(closeClient)
			return st
		},
	}
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			st := stores[backend](t)
			var hosts []string
			var served [2]atomic.Int64
			for i := range served {
				impl, err := NewKeycard("keycard-"+backend, st)
				if err != nil {
					t.Fatal(err)
				}
				defer impl.Close()
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/write" {
						served[i].Add(1)
					}
					impl.Handler.ServeHTTP(w, r)
				}))
				defer srv.Close()
				hosts = append(hosts, strings.TrimPrefix(srv.URL, "http://"))
			}
			res, err := load.Run(load.Config{
				Hosts: hosts, Path: "/write", Conns: 8, Session: load.Hot,
				Count: n, Duration: time.Minute, Lost: true, PIDs: []int{os.Getpid()},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests != n || res.Errors != 0 {
				t.Errorf("%d requests, %d errors (%v), want %d and none", res.Requests, res.Errors, res.Status, n)
			}
			if res.Instances != 2 {
				t.Errorf("result over %d instances, want 2", res.Instances)
			}
			if res.Lost == nil || res.Acked != n || *res.Lost != 0 {
				t.Errorf("acknowledged %d, survived %d, lost %v; want %d acknowledged and none lost", res.Acked, res.Survived, res.Lost, n)
			}
			a, b := served[0].Load(), served[1].Load()
			t.Logf("writes served: %d and %d; %d of %d increments lost", a, b, *res.Lost, res.Acked)
			if a == 0 || b == 0 {
				t.Errorf("writes served by the instances: %d and %d, want both", a, b)
			}
			if a+b != n+1 { // the run's writes and the counter's read
				t.Errorf("writes served: %d in all, want %d", a+b, n+1)
			}
		})
	}
}
