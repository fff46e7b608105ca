package mysql_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	driver "github.com/go-sql-driver/mysql"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store/mysql"
)

// countingNet is a network name for go-sql-driver whose connections count
// the writes the client makes: the driver writes each command packet with
// one Write, so every write is a request to the server, a round trip for
// any command that has an answer.
const countingNet = "keycard-counting-tcp"

var (
	registerCounting sync.Once
	clientWrites     atomic.Int64
)

type countingConn struct{ net.Conn }

func (c countingConn) Write(b []byte) (int, error) {
	clientWrites.Add(1)
	return c.Conn.Write(b)
}

// TestManagerRequestsMakeOneRoundTripPerStoreCall serves requests through
// a keycard Manager over a pool of one connection, and counts statements
// with the server's own per-connection counters (SHOW SESSION STATUS) and
// client writes with a counting dialer: a request that reads the session
// costs one SELECT, a request that creates one costs one INSERT, and a
// request that changes one costs one SELECT and one UPDATE. It does so
// with the driver's default DSN (interpolateParams=false, under which a
// query with arguments would take a prepare, an execute and a close) and
// with interpolateParams=true: the store sends no arguments, so both cost
// the same.
func TestManagerRequestsMakeOneRoundTripPerStoreCall(t *testing.T) {
	t.Parallel()
	registerCounting.Do(func() {
		driver.RegisterDialContext(countingNet, func(ctx context.Context, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			return countingConn{c}, nil
		})
	})
	for _, interpolate := range []bool{false, true} {
		name := "interpolateParams=false"
		if interpolate {
			name = "interpolateParams=true"
		}
		t.Run(name, func(t *testing.T) {
			counting := false // whether the DSN is TCP, so the pool dials through countingNet
			db := openDB(t, func(c *driver.Config) {
				c.InterpolateParams = interpolate
				if c.Net == "tcp" {
					c.Net, counting = countingNet, true
				}
			})
			db.SetMaxOpenConns(1)
			st := newStore(t, db, mysql.Config{})
			h := roundTripHandler(t, st)

			var cookie *http.Cookie
			for _, req := range []struct {
				name, target                          string
				statements, selects, inserts, updates int64
			}{
				{"a request that creates a session", "/put?v=1", 1, 0, 1, 0},
				{"a request that reads the session", "/get", 1, 1, 0, 0},
				{"a request that changes the session", "/put?v=2", 2, 1, 0, 1},
			} {
				before := sessionStatus(t, db)
				writes := clientWrites.Load()
				cookie = serve(t, h, req.target, cookie)
				// Only this test dials through countingNet, one
				// subtest at a time.
				w := clientWrites.Load() - writes
				d := diff(before, sessionStatus(t, db))
				t.Logf("%s: %d statements (SELECT %d, INSERT %d, UPDATE %d, DELETE %d, prepared %d), %d client writes",
					req.name, d["Questions"], d["Com_select"], d["Com_insert"], d["Com_update"], d["Com_delete"], d["Com_stmt_prepare"], w)
				if d["Questions"] != req.statements || d["Com_select"] != req.selects || d["Com_insert"] != req.inserts ||
					d["Com_update"] != req.updates || d["Com_delete"] != 0 || d["Com_stmt_prepare"] != 0 {
					t.Errorf("%s: want %d statements (SELECT %d, INSERT %d, UPDATE %d), none prepared",
						req.name, req.statements, req.selects, req.inserts, req.updates)
				}
				if counting && w != req.statements {
					t.Errorf("%s: got %d client writes, want %d", req.name, w, req.statements)
				}
			}
		})
	}
}

// roundTripHandler returns a Manager's middleware over st around handlers
// that put and get one value.
func roundTripHandler(t *testing.T, st *mysql.Store) http.Handler {
	m, err := keycard.New(keycard.Config{Store: st, Keys: []keycard.Key{keycard.NewKey()}, OnEvent: func(event.Event) {}})
	if err != nil {
		t.Fatalf("keycard.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		if err := keycard.FromContext(r.Context()).Put("v", r.FormValue("v")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := keycard.Get[string](keycard.FromContext(r.Context()), "v")
		io.WriteString(w, v)
	})
	return m.Handler(mux)
}

// serve serves one request with cookie, if not nil, and returns the
// cookie the client holds afterwards.
func serve(t *testing.T, h http.Handler, target string, cookie *http.Cookie) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", target, w.Code, w.Body.String())
	}
	for _, c := range w.Result().Cookies() {
		cookie = c
	}
	return cookie
}
