package keycardprom_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	keycardprom "github.com/keycard-go/keycard/contrib/prometheus"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// blockingMemory is a memory store that says its calls may block, as a
// network store's do.
type blockingMemory struct{ *memory.Store }

func (blockingMemory) NeverBlocks() bool { return false }

func TestStoreKeepsExactlyTheInnerCapabilities(t *testing.T) {
	t.Parallel()
	for c := caps(0); c <= allCaps; c++ {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			metrics, _ := keycardprom.New(reg, keycardprom.Config{})
			mem := memory.New(memory.Config{})
			inner := withCaps(mem, c)
			st := metrics.Store(inner)

			ix, gotIndex := st.(store.UserIndex)
			sw, gotSweeper := st.(store.Sweeper)
			sc, gotScanner := st.(store.Scanner)
			co, gotCounter := st.(store.Counter)
			ba, gotBatcher := st.(store.Batcher)
			cl, gotCloser := st.(io.Closer)
			nb, gotNonBlocking := st.(store.NonBlocking)
			lr, gotRecordLoader := st.(store.RecordLoader)
			if got := capsOf(gotIndex, gotSweeper, gotScanner, gotCounter, gotBatcher, gotCloser, gotNonBlocking, gotRecordLoader); got != c {
				t.Fatalf("wrapped store has %v, want %v", got, c)
			}
			if gotNonBlocking && !nb.NeverBlocks() {
				t.Error("NeverBlocks: got false over a memory store, want true")
			}
			if u, ok := st.(interface{ Unwrap() store.Store }); !ok || u.Unwrap() != inner {
				t.Error("Unwrap does not return the inner store")
			}

			// Every method reaches the inner store and is timed under its op.
			ctx := context.Background()
			key := strings.Repeat("a", 64)
			now := time.Now()
			rec := &store.Record{UserID: "alice", Created: now, LastSeen: now,
				Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
			if err := st.Save(ctx, key, rec); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Load(ctx, key); err != nil {
				t.Fatal(err)
			}
			if err := st.Touch(ctx, key, now, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			want := map[string]float64{"save": 1, "load": 1, "touch": 1}
			if c&capRecordLoader != 0 {
				var got store.Record
				if err := lr.LoadRecord(ctx, key, &got); err != nil || got.UserID != "alice" {
					t.Errorf("LoadRecord: got user %q, %v; want alice", got.UserID, err)
				}
				want["load"] = 2 // timed as a load
			}
			if c&capUserIndex != 0 {
				if entries, err := ix.ListUser(ctx, "alice"); err != nil || len(entries) != 1 {
					t.Errorf("ListUser: got %d entries, %v; want 1", len(entries), err)
				}
				if n, err := ix.DeleteUser(ctx, "nobody"); err != nil || n != 0 {
					t.Errorf("DeleteUser: got %d, %v; want 0", n, err)
				}
				want["list_user"], want["delete_user"] = 1, 1
			}
			if c&capSweeper != 0 {
				if _, err := sw.Sweep(ctx); err != nil {
					t.Error(err)
				}
				want["sweep"] = 1
			}
			if c&capScanner != 0 {
				n := 0
				if err := sc.Scan(ctx, func(store.Entry) error { n++; return nil }); err != nil || n != 1 {
					t.Errorf("Scan: saw %d records, %v; want 1", n, err)
				}
				want["scan"] = 1
			}
			if c&capBatcher != 0 {
				anon := &store.Record{Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
				if err := ba.SaveBatch(ctx, []store.Entry{{Key: strings.Repeat("b", 64), Record: anon}}); err != nil {
					t.Error(err)
				}
				want["save_batch"] = 1
			}
			if c&capCounter != 0 {
				wantAnon := 0
				if c&capBatcher != 0 {
					wantAnon = 1
				}
				if n, err := co.CountAnonymous(ctx); err != nil || n != wantAnon {
					t.Errorf("CountAnonymous: got %d, %v; want %d", n, err, wantAnon)
				}
				want["count_anonymous"] = 1
			}
			if err := st.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			want["delete"] = 1
			for op, n := range want {
				if got := calls(t, reg, op, "ok"); got != n {
					t.Errorf("%s ok: got %v, want %v", op, got, n)
				}
			}
			// Operations the store lacks have no series at all.
			for op, has := range map[string]bool{"list_user": c&capUserIndex != 0, "sweep": c&capSweeper != 0,
				"scan": c&capScanner != 0, "count_anonymous": c&capCounter != 0, "save_batch": c&capBatcher != 0} {
				if _, exists := sample(t, reg, "keycard_store_duration_seconds",
					map[string]string{"op": op, "result": "error"}); exists != has {
					t.Errorf("%s series exported: got %v, want %v", op, exists, has)
				}
			}
			if c&capCloser != 0 {
				if err := cl.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := mem.Load(ctx, key); !errors.Is(err, store.ErrClosed) {
					t.Errorf("Load after Close: got %v, want store.ErrClosed: Close did not reach the inner store", err)
				}
				if got := seriesCount(t, reg, "keycard_store_duration_seconds"); got != 2*len(want) {
					t.Errorf("Close was timed: %d series, want %d", got, 2*len(want))
				}
			}
		})
	}
}

// TestNeverBlocksIsTheInnerStores checks that the wrapper reports what
// the store it wraps does: a memory store's calls are not bounded with a
// timer each, a store whose calls can block still is.
func TestNeverBlocksIsTheInnerStores(t *testing.T) {
	t.Parallel()
	metrics, _ := keycardprom.New(prometheus.NewRegistry(), keycardprom.Config{})
	for _, c := range []struct {
		name  string
		inner store.Store
		want  bool
	}{
		{"memory", memory.New(memory.Config{}), true},
		{"a store that says it can block", blockingMemory{memory.New(memory.Config{})}, false},
	} {
		nb, ok := metrics.Store(c.inner).(store.NonBlocking)
		if !ok || nb.NeverBlocks() != c.want {
			t.Errorf("%s: NonBlocking %v, NeverBlocks %v; want true, %v", c.name, ok, ok && nb.NeverBlocks(), c.want)
		}
	}
}

// TestPlainStoreGainsNoCapability checks that a store with the four
// methods alone is wrapped into one with them alone: the Manager must
// not find a capability and call it.
func TestPlainStoreGainsNoCapability(t *testing.T) {
	t.Parallel()
	metrics, _ := keycardprom.New(prometheus.NewRegistry(), keycardprom.Config{})
	st := metrics.Store(downStore{})
	for name, has := range map[string]bool{
		"UserIndex": is[store.UserIndex](st), "Sweeper": is[store.Sweeper](st), "Scanner": is[store.Scanner](st),
		"Counter": is[store.Counter](st), "Batcher": is[store.Batcher](st), "Closer": is[io.Closer](st),
		"NonBlocking": is[store.NonBlocking](st), "RecordLoader": is[store.RecordLoader](st),
	} {
		if has {
			t.Errorf("a plain store's wrapper is a %s", name)
		}
	}
}

func is[T any](v any) bool {
	_, ok := v.(T)
	return ok
}

// TestSaveBatchResults checks that SaveBatch through the wrapper reaches
// the memory store and is one save_batch observation per call, a stale
// batch a conflict, and a batch the store cannot run unsupported, not an
// error that would page someone.
func TestSaveBatchResults(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics, _ := keycardprom.New(reg, keycardprom.Config{})
	mem := memory.New(memory.Config{})
	st := metrics.Store(mem).(store.Batcher)
	ctx := context.Background()
	now := time.Now()
	rec := &store.Record{UserID: "alice", Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	batch := []store.Entry{{Key: strings.Repeat("c", 64), Record: rec}, {Key: strings.Repeat("d", 64), Record: rec}}
	if err := st.SaveBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, e := range batch {
		if _, err := mem.Load(ctx, e.Key); err != nil {
			t.Errorf("the batch did not reach the store: %v", err)
		}
	}
	if err := st.SaveBatch(ctx, batch); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a stale batch: got %v, want ErrConflict", err)
	}
	unsupported := metrics.Store(noBatchStore{mem}).(store.Batcher)
	if err := unsupported.SaveBatch(ctx, batch); !errors.Is(err, store.ErrUnsupported) {
		t.Errorf("a store that cannot batch: got %v, want ErrUnsupported", err)
	}
	for _, c := range []struct {
		result string
		want   float64
	}{{"ok", 1}, {"conflict", 1}, {"unsupported", 1}, {"error", 0}} {
		if got := calls(t, reg, "save_batch", c.result); got != c.want {
			t.Errorf("save_batch %s: got %v, want %v", c.result, got, c.want)
		}
	}
	if got := calls(t, reg, "save", "ok"); got != 0 {
		t.Errorf("a batch was timed as %v saves, want none", got)
	}
}

// TestLoadRecordIsALoad checks that the wrapper keeps the memory store's
// store.RecordLoader: LoadRecord through it fills the caller's record and
// is timed as Load is, one load observation per call with Load's result
// (not_found for an absent record, which leaves the record as it was);
// and that a store without LoadRecord gives a wrapper without it.
func TestLoadRecordIsALoad(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics, _ := keycardprom.New(reg, keycardprom.Config{})
	st := metrics.Store(memory.New(memory.Config{}))
	l, ok := st.(store.RecordLoader)
	if !ok {
		t.Fatal("the wrapped memory store is no store.RecordLoader")
	}
	ctx := context.Background()
	key := strings.Repeat("e", 64)
	now := time.Now()
	saved := &store.Record{UserID: "alice", Data: []byte("cart"), Created: now, LastSeen: now,
		Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	if err := st.Save(ctx, key, saved); err != nil {
		t.Fatal(err)
	}
	series := seriesCount(t, reg, "keycard_store_duration_seconds")
	var rec store.Record
	if err := l.LoadRecord(ctx, key, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.UserID != "alice" || string(rec.Data) != "cart" || rec.Version == 0 {
		t.Errorf("LoadRecord: got user %q, data %q, version %d; want alice, cart and the stored version",
			rec.UserID, rec.Data, rec.Version)
	}
	old := rec
	if err := l.LoadRecord(ctx, strings.Repeat("f", 64), &rec); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LoadRecord of an absent key: got %v, want ErrNotFound", err)
	}
	if rec.UserID != old.UserID || rec.Version != old.Version {
		t.Error("LoadRecord of an absent key changed the record")
	}
	for _, c := range []struct {
		result string
		want   float64
	}{{"ok", 1}, {"not_found", 1}, {"error", 0}} {
		if got := calls(t, reg, "load", c.result); got != c.want {
			t.Errorf("load %s: got %v, want %v", c.result, got, c.want)
		}
	}
	// LoadRecord has no operation of its own: the one series it added
	// is load's not_found.
	if got := seriesCount(t, reg, "keycard_store_duration_seconds"); got != series+1 {
		t.Errorf("LoadRecord made %d series, want 1 (load not_found)", got-series)
	}

	if is[store.RecordLoader](metrics.Store(withCaps(memory.New(memory.Config{}), allCaps&^capRecordLoader))) {
		t.Error("a store without LoadRecord gives a wrapper with it")
	}
}

// TestManagerLoadsThroughLoadRecord checks that a Manager over the
// wrapped memory store reads its sessions through LoadRecord, each read
// timed as one load.
func TestManagerLoadsThroughLoadRecord(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics, _ := keycardprom.New(reg, keycardprom.Config{})
	inner := &countingLoader{Store: memory.New(memory.Config{})}
	m, err := keycard.New(keycard.Config{Store: metrics.Store(inner), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("cart", 1)
	})))
	defer ts.Close()
	do := browser(t, ts)
	do("POST", "/") // stores the session
	do("POST", "/") // loads it
	if got := inner.n.Load(); got != 1 {
		t.Errorf("LoadRecord reached the store %d times, want 1", got)
	}
	if got := calls(t, reg, "load", "ok"); got != 1 {
		t.Errorf("load ok: got %v, want 1", got)
	}
}

// countingLoader is a memory store that counts its LoadRecord calls.
type countingLoader struct {
	*memory.Store
	n atomic.Int64
}

func (c *countingLoader) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	c.n.Add(1)
	return c.Store.LoadRecord(ctx, key, rec)
}

// noBatchStore is a store that has SaveBatch but cannot run it here, as
// a Redis Cluster store.
type noBatchStore struct{ store.Store }

func (noBatchStore) SaveBatch(context.Context, []store.Entry) error {
	return fmt.Errorf("redis store: save batch: %w", store.ErrUnsupported)
}

// TestRenewalThroughAManagerIsOneBatch checks that the wrapper keeps
// the memory store's store.Batcher for a real Manager: a login that
// renews a stored session is one save_batch, not two saves.
func TestRenewalThroughAManagerIsOneBatch(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics, _ := keycardprom.New(reg, keycardprom.Config{})
	m, err := keycard.New(keycard.Config{Store: metrics.Store(memory.New(memory.Config{})),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("cart", 1)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), "alice"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	ts := httptest.NewTLSServer(m.Handler(mux))
	defer ts.Close()
	do := browser(t, ts)
	do("POST", "/cart") // a visitor's session, stored
	saves := calls(t, reg, "save", "ok")
	if saves != 1 {
		t.Fatalf("storing the visitor's session: %v saves, want 1", saves)
	}
	if got := do("POST", "/login"); got != "" {
		t.Fatalf("login: %s", got)
	}
	if got := calls(t, reg, "save_batch", "ok"); got != 1 {
		t.Errorf("login: %v save_batch, want 1", got)
	}
	if got := calls(t, reg, "save", "ok") + calls(t, reg, "save", "conflict"); got != saves {
		t.Errorf("login: %v saves beside the batch, want none", got-saves)
	}
}

// TestVisitorsMaxThroughTheWrapper checks that the wrapper keeps the
// memory store's store.Counter: keycard.New accepts Visitors.Max, and a
// new anonymous session is counted through it.
func TestVisitorsMaxThroughTheWrapper(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics, _ := keycardprom.New(reg, keycardprom.Config{})
	m, err := keycard.New(keycard.Config{Store: metrics.Store(memory.New(memory.Config{})),
		Visitors: keycard.Visitors{Max: 10}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("keycard.New with Visitors.Max over the wrapped memory store: %v", err)
	}
	ts := httptest.NewTLSServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("cart", 1)
	})))
	defer ts.Close()
	browser(t, ts)("POST", "/")
	if got := calls(t, reg, "count_anonymous", "ok"); got != 1 {
		t.Errorf("count_anonymous: got %v, want 1", got)
	}
}

// TestWrappedStoreConformance runs the store contract over the wrapper,
// for no capability, each one alone, and all of them: timing changes no
// behaviour.
func TestWrappedStoreConformance(t *testing.T) {
	sets := []caps{0, allCaps}
	for c := caps(1); c < allCaps; c <<= 1 {
		sets = append(sets, c)
	}
	for _, c := range sets {
		t.Run(c.String(), func(t *testing.T) {
			storetest.Run(t, storetest.Harness{
				New: func(tb testing.TB, now func() time.Time) store.Store {
					metrics, err := keycardprom.New(prometheus.NewRegistry(), keycardprom.Config{})
					if err != nil {
						tb.Fatal(err)
					}
					return metrics.Store(withCaps(memory.New(memory.Config{Now: now}), c))
				},
			})
		})
	}
}

func TestSessionLimitNeedsAnIndexThroughTheWrapper(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		index   bool
		wantErr bool
	}{
		{"a store with a user index is accepted", true, false},
		{"a store without one is refused at New", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			metrics, _ := keycardprom.New(prometheus.NewRegistry(), keycardprom.Config{})
			inner := allCaps
			if !c.index {
				inner &^= capUserIndex
			}
			st := metrics.Store(withCaps(memory.New(memory.Config{}), inner))
			m, err := keycard.New(keycard.Config{Store: st, MaxSessionsPerUser: 2})
			if (err != nil) != c.wantErr {
				t.Fatalf("keycard.New: got %v, want error %v", err, c.wantErr)
			}
			if m == nil {
				return
			}
			if _, err := m.Sessions(context.Background(), "alice"); err != nil {
				t.Errorf("Sessions: %v", err)
			}
		})
	}
	// Without a cap, a store without an index works, and Sessions says
	// so as it would unwrapped.
	metrics, _ := keycardprom.New(prometheus.NewRegistry(), keycardprom.Config{})
	m, err := keycard.New(keycard.Config{Store: metrics.Store(withCaps(memory.New(memory.Config{}), 0))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Sessions(context.Background(), "alice"); !errors.Is(err, store.ErrUnsupported) {
		t.Errorf("Sessions without an index: got %v, want ErrUnsupported", err)
	}
}

func TestStoreResults(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics, _ := keycardprom.New(reg, keycardprom.Config{})
	st := metrics.Store(memory.New(memory.Config{}))
	ctx := context.Background()
	key := strings.Repeat("b", 64)
	now := time.Now()
	rec := &store.Record{Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}

	st.Load(ctx, key)                           // not_found
	st.Touch(ctx, key, now, now.Add(time.Hour)) // not_found
	st.Save(ctx, key, rec)                      // ok
	st.Save(ctx, key, rec)                      // conflict: version 0 but the record exists
	stop := errors.New("enough")
	if err := st.(store.Scanner).Scan(ctx, func(store.Entry) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Scan: got %v, want the callback's error", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	st.Load(cancelled, key) // error

	for _, c := range []struct {
		op, result string
		want       float64
	}{
		{"load", "not_found", 1},
		{"touch", "not_found", 1},
		{"save", "ok", 1},
		{"save", "conflict", 1},
		{"scan", "ok", 1}, // the callback stopped it, not the store
		{"load", "error", 1},
	} {
		if got := calls(t, reg, c.op, c.result); got != c.want {
			t.Errorf("%s %s: got %v, want %v", c.op, c.result, got, c.want)
		}
	}
}

func (c caps) String() string {
	var out []string
	for i, name := range capNames {
		if c&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return "no capabilities"
	}
	return strings.Join(out, "+")
}

// capsOf returns the set of the capabilities found, in capNames' order.
func capsOf(found ...bool) caps {
	var c caps
	for i, has := range found {
		if has {
			c |= 1 << i
		}
	}
	return c
}
