package keycardprom_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	keycardprom "github.com/keycard-go/keycard/contrib/prometheus"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// withCaps returns a store over mem that has exactly the capabilities
// asked for.
func withCaps(mem *memory.Store, index, sweeper, scanner bool) store.Store {
	type (
		I = store.UserIndex
		W = store.Sweeper
		C = store.Scanner
	)
	var s store.Store = mem
	switch {
	case index && sweeper && scanner:
		return mem
	case index && sweeper:
		return struct {
			store.Store
			I
			W
		}{s, mem, mem}
	case index && scanner:
		return struct {
			store.Store
			I
			C
		}{s, mem, mem}
	case sweeper && scanner:
		return struct {
			store.Store
			W
			C
		}{s, mem, mem}
	case index:
		return struct {
			store.Store
			I
		}{s, mem}
	case sweeper:
		return struct {
			store.Store
			W
		}{s, mem}
	case scanner:
		return struct {
			store.Store
			C
		}{s, mem}
	}
	return struct{ store.Store }{s}
}

func TestStoreKeepsExactlyTheInnerCapabilities(t *testing.T) {
	t.Parallel()
	for mask := range 8 {
		index, sweeper, scanner := mask&1 != 0, mask&2 != 0, mask&4 != 0
		name := capName(index, sweeper, scanner)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			metrics, _ := keycardprom.New(reg, keycardprom.Config{})
			inner := withCaps(memory.New(memory.Config{}), index, sweeper, scanner)
			st := metrics.Store(inner)

			ix, gotIndex := st.(store.UserIndex)
			sw, gotSweeper := st.(store.Sweeper)
			sc, gotScanner := st.(store.Scanner)
			if gotIndex != index || gotSweeper != sweeper || gotScanner != scanner {
				t.Fatalf("wrapped store has %s, want %s", capName(gotIndex, gotSweeper, gotScanner), name)
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
			if index {
				if entries, err := ix.ListUser(ctx, "alice"); err != nil || len(entries) != 1 {
					t.Errorf("ListUser: got %d entries, %v; want 1", len(entries), err)
				}
				if n, err := ix.DeleteUser(ctx, "nobody"); err != nil || n != 0 {
					t.Errorf("DeleteUser: got %d, %v; want 0", n, err)
				}
				want["list_user"], want["delete_user"] = 1, 1
			}
			if sweeper {
				if _, err := sw.Sweep(ctx); err != nil {
					t.Error(err)
				}
				want["sweep"] = 1
			}
			if scanner {
				n := 0
				if err := sc.Scan(ctx, func(store.Entry) error { n++; return nil }); err != nil || n != 1 {
					t.Errorf("Scan: saw %d records, %v; want 1", n, err)
				}
				want["scan"] = 1
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
			for op, has := range map[string]bool{"list_user": index, "sweep": sweeper, "scan": scanner} {
				if _, exists := sample(t, reg, "keycard_store_duration_seconds",
					map[string]string{"op": op, "result": "error"}); exists != has {
					t.Errorf("%s series exported: got %v, want %v", op, exists, has)
				}
			}
		})
	}
}

// TestWrappedStoreConformance runs the store contract over the wrapper, for
// every combination of capabilities: timing changes no behaviour.
func TestWrappedStoreConformance(t *testing.T) {
	for mask := range 8 {
		index, sweeper, scanner := mask&1 != 0, mask&2 != 0, mask&4 != 0
		t.Run(capName(index, sweeper, scanner), func(t *testing.T) {
			storetest.Run(t, storetest.Harness{
				New: func(tb testing.TB, now func() time.Time) store.Store {
					metrics, err := keycardprom.New(prometheus.NewRegistry(), keycardprom.Config{})
					if err != nil {
						tb.Fatal(err)
					}
					return metrics.Store(withCaps(memory.New(memory.Config{Now: now}), index, sweeper, scanner))
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
			st := metrics.Store(withCaps(memory.New(memory.Config{}), c.index, true, true))
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
	m, err := keycard.New(keycard.Config{Store: metrics.Store(withCaps(memory.New(memory.Config{}), false, false, false))})
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

func capName(index, sweeper, scanner bool) string {
	var caps []string
	if index {
		caps = append(caps, "UserIndex")
	}
	if sweeper {
		caps = append(caps, "Sweeper")
	}
	if scanner {
		caps = append(caps, "Scanner")
	}
	if len(caps) == 0 {
		return "no capabilities"
	}
	return strings.Join(caps, "+")
}
