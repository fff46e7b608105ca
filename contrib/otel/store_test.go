package keycardotel_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	keycardotel "github.com/keycard-go/keycard/contrib/otel"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/storetest"
	"go.opentelemetry.io/otel/codes"
)

// caps is a set of optional store capabilities.
type caps struct{ index, sweeper, scanner, closer bool }

func (c caps) String() string {
	var out []string
	for _, x := range []struct {
		has  bool
		name string
	}{{c.index, "UserIndex"}, {c.sweeper, "Sweeper"}, {c.scanner, "Scanner"}, {c.closer, "Closer"}} {
		if x.has {
			out = append(out, x.name)
		}
	}
	if len(out) == 0 {
		return "no capabilities"
	}
	return strings.Join(out, "+")
}

// allCaps returns every combination of capabilities.
func allCaps() []caps {
	var out []caps
	for mask := range 16 {
		out = append(out, caps{mask&1 != 0, mask&2 != 0, mask&4 != 0, mask&8 != 0})
	}
	return out
}

// withCaps returns a store over mem that has exactly the capabilities in
// c: a struct that embeds mem as each interface it should have.
func withCaps(mem *memory.Store, c caps) store.Store {
	var s store.Store = mem
	var (
		ix store.UserIndex
		sw store.Sweeper
		sc store.Scanner
		cl io.Closer
	)
	if c.index {
		ix = mem
	}
	if c.sweeper {
		sw = mem
	}
	if c.scanner {
		sc = mem
	}
	if c.closer {
		cl = mem
	}
	// Build the combination from the four optional parts; nil parts are
	// left out of the type.
	return combine(s, ix, sw, sc, cl)
}

func TestStoreKeepsExactlyTheInnerCapabilities(t *testing.T) {
	t.Parallel()
	for _, c := range allCaps() {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			s := newSDK(t)
			mem := memory.New(memory.Config{})
			inner := withCaps(mem, c)
			st := s.tel.Store(inner)

			ix, gotIndex := st.(store.UserIndex)
			sw, gotSweeper := st.(store.Sweeper)
			sc, gotScanner := st.(store.Scanner)
			cl, gotCloser := st.(io.Closer)
			if got := (caps{gotIndex, gotSweeper, gotScanner, gotCloser}); got != c {
				t.Fatalf("wrapped store has %v, want %v", got, c)
			}
			// A memory store never blocks; its wrapper can (a span
			// processor may export synchronously), so it says so.
			if nb, ok := st.(store.NonBlocking); !ok || nb.NeverBlocks() {
				t.Errorf("NonBlocking: got %v (implemented %v), want implemented and false", ok && nb.NeverBlocks(), ok)
			}
			if u, ok := st.(interface{ Unwrap() store.Store }); !ok || u.Unwrap() != inner {
				t.Error("Unwrap does not return the inner store")
			}

			// Every method reaches the inner store and is a span of its
			// caller's span.
			key := strings.Repeat("a", 64)
			now := time.Now()
			rec := &store.Record{UserID: "alice", Created: now, LastSeen: now,
				Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
			want := []string{"keycard.store.save=ok", "keycard.store.load=ok", "keycard.store.touch=ok"}
			parent := s.traced("admin", func(ctx context.Context) {
				if err := st.Save(ctx, key, rec); err != nil {
					t.Fatal(err)
				}
				if _, err := st.Load(ctx, key); err != nil {
					t.Fatal(err)
				}
				if err := st.Touch(ctx, key, now, now.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				if c.index {
					if entries, err := ix.ListUser(ctx, "alice"); err != nil || len(entries) != 1 {
						t.Errorf("ListUser: got %d entries, %v; want 1", len(entries), err)
					}
					if n, err := ix.DeleteUser(ctx, "nobody"); err != nil || n != 0 {
						t.Errorf("DeleteUser: got %d, %v; want 0", n, err)
					}
					want = append(want, "keycard.store.list_user=ok", "keycard.store.delete_user=ok")
				}
				if c.sweeper {
					if _, err := sw.Sweep(ctx); err != nil {
						t.Error(err)
					}
					want = append(want, "keycard.store.sweep=ok")
				}
				if c.scanner {
					n := 0
					if err := sc.Scan(ctx, func(store.Entry) error { n++; return nil }); err != nil || n != 1 {
						t.Errorf("Scan: saw %d records, %v; want 1", n, err)
					}
					want = append(want, "keycard.store.scan=ok")
				}
				if err := st.Delete(ctx, key); err != nil {
					t.Fatal(err)
				}
				want = append(want, "keycard.store.delete=ok")
			})
			var got []string
			for _, sp := range s.ended() {
				if sp.Parent().SpanID() == parent.SpanID() {
					got = append(got, sp.Name()+"="+value(sp.Attributes(), keycardotel.AttrStoreResult))
				}
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("spans: got %v, want %v", got, want)
			}
			if c.closer {
				if err := cl.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := mem.Load(context.Background(), key); !errors.Is(err, store.ErrClosed) {
					t.Errorf("Load after Close: got %v, want store.ErrClosed: Close did not reach the inner store", err)
				}
			}
		})
	}
}

// TestWrappedStoreConformance runs the store contract over the wrapper:
// tracing changes no behaviour.
func TestWrappedStoreConformance(t *testing.T) {
	for _, c := range []caps{{}, {true, true, true, true}} {
		t.Run(c.String(), func(t *testing.T) {
			s := newSDK(t)
			storetest.Run(t, storetest.Harness{
				New: func(tb testing.TB, now func() time.Time) store.Store {
					return s.tel.Store(withCaps(memory.New(memory.Config{Now: now}), c))
				},
			})
		})
	}
}

func TestSessionLimitNeedsAnIndexThroughTheWrapper(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	for _, c := range []struct {
		name    string
		index   bool
		wantErr bool
	}{
		{"a store with a user index is accepted", true, false},
		{"a store without one is refused at New", false, true},
	} {
		st := s.tel.Store(withCaps(memory.New(memory.Config{}), caps{index: c.index}))
		_, err := keycard.New(keycard.Config{Store: st, MaxSessionsPerUser: 2, Logger: slog.New(slog.DiscardHandler)})
		if (err != nil) != c.wantErr {
			t.Errorf("%s: keycard.New: got %v, want error %v", c.name, err, c.wantErr)
		}
	}
}

func TestStoreResults(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	st := s.tel.Store(memory.New(memory.Config{}))
	key := strings.Repeat("b", 64)
	now := time.Now()
	rec := &store.Record{Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	stop := errors.New("enough")
	parent := s.traced("calls", func(ctx context.Context) {
		st.Load(ctx, key)                           // not_found
		st.Touch(ctx, key, now, now.Add(time.Hour)) // not_found
		st.Save(ctx, key, rec)                      // ok
		st.Save(ctx, key, rec)                      // conflict: version 0 but the record exists
		if err := st.(store.Scanner).Scan(ctx, func(store.Entry) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("Scan: got %v, want the callback's error", err)
		}
	})
	var got []string
	for _, sp := range s.ended() {
		if sp.Parent().SpanID() == parent.SpanID() {
			got = append(got, sp.Name()+"="+value(sp.Attributes(), keycardotel.AttrStoreResult)+
				" count="+value(sp.Attributes(), keycardotel.AttrStoreCount)+" status="+sp.Status().Code.String())
		}
	}
	want := []string{
		"keycard.store.load=not_found count= status=Unset",
		"keycard.store.touch=not_found count= status=Unset",
		"keycard.store.save=ok count= status=Unset",
		"keycard.store.save=conflict count= status=Unset",
		"keycard.store.scan=ok count=1 status=Unset", // the callback stopped it, not the store
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("spans:\ngot  %v\nwant %v", got, want)
	}
	for _, c := range []struct {
		op, result string
		want       uint64
	}{
		{"load", "not_found", 1}, {"touch", "not_found", 1}, {"save", "ok", 1},
		{"save", "conflict", 1}, {"scan", "ok", 1},
	} {
		if got := s.calls(t, c.op, c.result); got != c.want {
			t.Errorf("%s %s: got %v, want %v", c.op, c.result, got, c.want)
		}
	}
}

// TestStoreErrorsNameNoDetail checks that a failed call's span is marked
// as an error with a class of error, never the error's message, which
// may hold an address, a user name or a password.
func TestStoreErrorsNameNoDetail(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	st := s.tel.Store(failingStore{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	timedOut, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	mem := s.tel.Store(memory.New(memory.Config{}))
	parent := s.traced("failing", func(pctx context.Context) {
		st.Load(pctx, strings.Repeat("c", 64))
		mem.Load(withSpan(ctx, pctx), strings.Repeat("c", 64))
		mem.Load(withSpan(timedOut, pctx), strings.Repeat("c", 64))
	})
	var got []string
	for _, sp := range s.ended() {
		if sp.Parent().SpanID() != parent.SpanID() {
			continue
		}
		if sp.Status().Code != codes.Error {
			t.Errorf("%s: status %v, want Error", sp.Name(), sp.Status().Code)
		}
		got = append(got, value(sp.Attributes(), keycardotel.AttrStoreResult)+" "+
			value(sp.Attributes(), keycardotel.AttrErrorType)+" "+sp.Status().Description)
		for _, a := range sp.Attributes() {
			if strings.Contains(a.Value.String(), "hunter2") || strings.Contains(a.Value.String(), "127.0.0.1") {
				t.Errorf("%s: attribute %s holds the error's message: %s", sp.Name(), a.Key, a.Value.String())
			}
		}
	}
	want := []string{"error *net.OpError *net.OpError", "error canceled canceled", "error timeout timeout"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("failed calls: got %q, want %q", got, want)
	}
	if got := s.calls(t, "load", "error"); got != 3 {
		t.Errorf("load errors: got %d, want 3", got)
	}
}

// TestCallsOutsideASpanAreOnlyTimed checks that a call whose context
// carries no span, such as a background sweep, makes no root span of its
// own but is still measured.
func TestCallsOutsideASpanAreOnlyTimed(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	st := s.tel.Store(memory.New(memory.Config{}))
	st.Load(context.Background(), strings.Repeat("d", 64))
	st.(store.Sweeper).Sweep(context.Background())
	if spans := s.ended(); len(spans) != 0 {
		t.Errorf("spans without a parent: got %s, want none", names(spans))
	}
	if got := s.calls(t, "load", "not_found"); got != 1 {
		t.Errorf("untraced loads measured: got %d, want 1", got)
	}
	if got := s.calls(t, "sweep", "ok"); got != 1 {
		t.Errorf("untraced sweeps measured: got %d, want 1", got)
	}
}

func TestStoreNames(t *testing.T) {
	t.Parallel()
	mem := memory.New(memory.Config{})
	s := newSDK(t)
	for _, c := range []struct {
		name string
		st   store.Store
		want string
	}{
		{"a store is named after its package", mem, "memory"},
		{"a wrapper with Unwrap is named after the store it wraps", &racingStore{Store: mem}, "memory"},
		{"two wrappers deep", s.tel.Store(&racingStore{Store: mem}), "memory"},
		{"an unnamed type has a generic name", struct{ store.Store }{mem}, "store"},
		{"a named type without Unwrap is named after its own package", failingStore{}, "otel_test"},
	} {
		parent := s.traced(c.name, func(ctx context.Context) {
			s.tel.Store(c.st).Delete(ctx, strings.Repeat("e", 64))
		})
		for _, sp := range s.ended() {
			if sp.Parent().SpanID() == parent.SpanID() {
				if got := value(sp.Attributes(), keycardotel.AttrStoreName); got != c.want {
					t.Errorf("%s: got %q, want %q", c.name, got, c.want)
				}
			}
		}
	}
}
