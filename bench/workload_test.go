package bench

import (
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/bench/internal/load"
)

// TestWorkloads runs the HTTP workloads of run.sh in short form (a few
// hundred requests, no timing) against every implementation served on
// loopback, and checks what they count, never how fast: every request is
// measured, a hot session is one session that every connection writes, and
// the lost-update count adds up. Keycard, whose writes are atomic, loses
// none; a server that keeps nothing (bare) loses every one; the peers may
// lose some.
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
				case bi.lib == "bare":
					if *res.Lost != n {
						t.Errorf("%s %s: bare lost %d of %d, want all: it keeps no counter", w.session, w.path, *res.Lost, n)
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
