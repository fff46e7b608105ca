package keycardotel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	keycardotel "github.com/keycard-go/keycard/contrib/otel"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/storetest"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

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

func TestStoreKeepsExactlyTheInnerCapabilities(t *testing.T) {
	t.Parallel()
	for c := caps(0); c <= allCaps; c++ {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			s := newSDK(t)
			mem := memory.New(memory.Config{})
			inner := withCaps(mem, c)
			st := s.tel.Store(inner)

			ix, gotIndex := st.(store.UserIndex)
			sw, gotSweeper := st.(store.Sweeper)
			sc, gotScanner := st.(store.Scanner)
			co, gotCounter := st.(store.Counter)
			ba, gotBatcher := st.(store.Batcher)
			cl, gotCloser := st.(io.Closer)
			lr, gotRecordLoader := st.(store.RecordLoader)
			if got := capsOf(gotIndex, gotSweeper, gotScanner, gotCounter, gotBatcher, gotCloser, gotRecordLoader); got != c {
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
			// caller's span, and is measured under its op.
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
				if c&capRecordLoader != 0 {
					var got store.Record
					if err := lr.LoadRecord(ctx, key, &got); err != nil || got.UserID != "alice" {
						t.Errorf("LoadRecord: got user %q, %v; want alice", got.UserID, err)
					}
					// A load, as Load is: after it, before the touch.
					want = slices.Insert(want, 2, "keycard.store.load=ok")
				}
				if err := st.Touch(ctx, key, now, now.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				if c&capUserIndex != 0 {
					if entries, err := ix.ListUser(ctx, "alice"); err != nil || len(entries) != 1 {
						t.Errorf("ListUser: got %d entries, %v; want 1", len(entries), err)
					}
					if n, err := ix.DeleteUser(ctx, "nobody"); err != nil || n != 0 {
						t.Errorf("DeleteUser: got %d, %v; want 0", n, err)
					}
					want = append(want, "keycard.store.list_user=ok", "keycard.store.delete_user=ok")
				}
				if c&capSweeper != 0 {
					if _, err := sw.Sweep(ctx); err != nil {
						t.Error(err)
					}
					want = append(want, "keycard.store.sweep=ok")
				}
				if c&capScanner != 0 {
					n := 0
					if err := sc.Scan(ctx, func(store.Entry) error { n++; return nil }); err != nil || n != 1 {
						t.Errorf("Scan: saw %d records, %v; want 1", n, err)
					}
					want = append(want, "keycard.store.scan=ok")
				}
				if c&capBatcher != 0 {
					anon := &store.Record{Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
					if err := ba.SaveBatch(ctx, []store.Entry{{Key: strings.Repeat("b", 64), Record: anon}}); err != nil {
						t.Error(err)
					}
					want = append(want, "keycard.store.save_batch=ok")
				}
				if c&capCounter != 0 {
					wantAnon := 0
					if c&capBatcher != 0 {
						wantAnon = 1
					}
					if n, err := co.CountAnonymous(ctx); err != nil || n != wantAnon {
						t.Errorf("CountAnonymous: got %d, %v; want %d", n, err, wantAnon)
					}
					want = append(want, "keycard.store.count_anonymous=ok")
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
			measured := map[string]uint64{}
			for _, span := range want {
				measured[span]++
			}
			for span, wantN := range measured {
				name, result, _ := strings.Cut(span, "=")
				op := strings.TrimPrefix(name, "keycard.store.")
				if n := s.calls(t, op, result); n != wantN {
					t.Errorf("%s %s measured: got %d, want %d", op, result, n, wantN)
				}
			}
			if c&capCloser != 0 {
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

// TestPlainStoreGainsNoCapability checks that a store with the four
// methods alone is wrapped into one with them alone (and NeverBlocks
// false): the Manager must not find a capability and call it.
func TestPlainStoreGainsNoCapability(t *testing.T) {
	t.Parallel()
	st := newSDK(t).tel.Store(failingStore{})
	for name, has := range map[string]bool{
		"UserIndex": is[store.UserIndex](st), "Sweeper": is[store.Sweeper](st), "Scanner": is[store.Scanner](st),
		"Counter": is[store.Counter](st), "Batcher": is[store.Batcher](st), "Closer": is[io.Closer](st),
		"RecordLoader": is[store.RecordLoader](st),
	} {
		if has {
			t.Errorf("a plain store's wrapper is a %s", name)
		}
	}
	if nb, ok := st.(store.NonBlocking); ok && nb.NeverBlocks() {
		t.Error("a plain store's wrapper says it never blocks")
	}
}

func is[T any](v any) bool {
	_, ok := v.(T)
	return ok
}

// TestSaveBatchSpans checks that SaveBatch through the wrapper reaches
// the memory store and is one save_batch span and measurement per call,
// counting the batch's records; a stale batch is a conflict, and a batch
// the store cannot run unsupported, with no error status.
func TestSaveBatchSpans(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	mem := memory.New(memory.Config{})
	st := s.tel.Store(mem).(store.Batcher)
	unsupported := s.tel.Store(noBatchStore{mem}).(store.Batcher)
	now := time.Now()
	rec := &store.Record{UserID: "alice", Created: now, LastSeen: now, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	batch := []store.Entry{{Key: strings.Repeat("c", 64), Record: rec}, {Key: strings.Repeat("d", 64), Record: rec}}
	parent := s.traced("batches", func(ctx context.Context) {
		if err := st.SaveBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveBatch(ctx, batch); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a stale batch: got %v, want ErrConflict", err)
		}
		if err := unsupported.SaveBatch(ctx, batch); !errors.Is(err, store.ErrUnsupported) {
			t.Errorf("a store that cannot batch: got %v, want ErrUnsupported", err)
		}
	})
	for _, e := range batch {
		if _, err := mem.Load(context.Background(), e.Key); err != nil {
			t.Errorf("the batch did not reach the store: %v", err)
		}
	}
	var got []string
	for _, sp := range s.ended() {
		if sp.Parent().SpanID() == parent.SpanID() {
			got = append(got, sp.Name()+"="+value(sp.Attributes(), keycardotel.AttrStoreResult)+
				" name="+value(sp.Attributes(), keycardotel.AttrStoreName)+
				" count="+value(sp.Attributes(), keycardotel.AttrStoreCount)+
				" error.type="+value(sp.Attributes(), keycardotel.AttrErrorType)+
				" status="+sp.Status().Code.String())
		}
	}
	want := []string{
		"keycard.store.save_batch=ok name=memory count=2 error.type= status=Unset",
		"keycard.store.save_batch=conflict name=memory count=2 error.type= status=Unset",
		"keycard.store.save_batch=unsupported name=memory count=2 error.type= status=Unset",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("spans:\ngot  %v\nwant %v", got, want)
	}
	for _, c := range []struct {
		result string
		want   uint64
	}{{"ok", 1}, {"conflict", 1}, {"unsupported", 1}, {"error", 0}} {
		if got := s.calls(t, "save_batch", c.result); got != c.want {
			t.Errorf("save_batch %s: got %d, want %d", c.result, got, c.want)
		}
	}
	if got := s.calls(t, "save", "ok"); got != 0 {
		t.Errorf("a batch was measured as %d saves, want none", got)
	}
}

// noBatchStore is a store that has SaveBatch but cannot run it here, as
// a Redis Cluster store. Its Unwrap names it after the store it wraps.
type noBatchStore struct{ store.Store }

func (n noBatchStore) Unwrap() store.Store { return n.Store }

func (noBatchStore) SaveBatch(context.Context, []store.Entry) error {
	return fmt.Errorf("redis store: save batch: %w", store.ErrUnsupported)
}

// TestRenewalThroughAManagerIsOneBatch checks that the wrapper keeps
// the memory store's store.Batcher for a real Manager: a login that
// renews a stored session is a load and one save_batch span, not two
// saves, and the measurements agree.
func TestRenewalThroughAManagerIsOneBatch(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	m, err := keycard.New(keycard.Config{Store: s.tel.Store(memory.New(memory.Config{})),
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
	ts := httptest.NewTLSServer(s.middleware(m.Handler(mux)))
	defer ts.Close()
	b := newBrowser(t, ts)
	b.do("POST", "/cart") // a visitor's session, stored
	if got := b.do("POST", "/login"); got != "" {
		t.Fatalf("login: %s", got)
	}
	if got, want := strings.Join(s.children(s.request(t, "POST /login")), " "),
		"keycard.store.load=ok keycard.store.save_batch=ok"; got != want {
		t.Errorf("login's store spans: got %s, want %s", got, want)
	}
	if got := s.calls(t, "save_batch", "ok"); got != 1 {
		t.Errorf("save_batch measured: got %d, want 1", got)
	}
	if got := s.calls(t, "save", "ok"); got != 1 {
		t.Errorf("saves measured: got %d, want 1 (the visitor's session's)", got)
	}
}

// TestVisitorsMaxThroughTheWrapper checks that the wrapper keeps the
// memory store's store.Counter: keycard.New accepts Visitors.Max, and a
// new anonymous session is counted through it.
func TestVisitorsMaxThroughTheWrapper(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	m, err := keycard.New(keycard.Config{Store: s.tel.Store(memory.New(memory.Config{})),
		Visitors: keycard.Visitors{Max: 10}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("keycard.New with Visitors.Max over the wrapped memory store: %v", err)
	}
	ts := httptest.NewTLSServer(s.middleware(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("cart", 1)
	}))))
	defer ts.Close()
	newBrowser(t, ts).do("POST", "/")
	if got, want := strings.Join(s.children(s.request(t, "POST /")), " "),
		"keycard.store.count_anonymous=ok keycard.store.save=ok"; got != want {
		t.Errorf("store spans: got %s, want %s", got, want)
	}
	if got := s.calls(t, "count_anonymous", "ok"); got != 1 {
		t.Errorf("count_anonymous measured: got %d, want 1", got)
	}
}

// TestLoadRecordIsALoad checks that the wrapper keeps the memory store's
// store.RecordLoader: LoadRecord through it fills the caller's record and
// is traced and measured as Load is, a keycard.store.load span with
// Load's attributes (not_found for an absent record, which leaves the
// record as it was); and that a store without LoadRecord gives a wrapper
// without it.
func TestLoadRecordIsALoad(t *testing.T) {
	t.Parallel()
	s := newSDK(t)
	st := s.tel.Store(memory.New(memory.Config{}))
	l, ok := st.(store.RecordLoader)
	if !ok {
		t.Fatal("the wrapped memory store is no store.RecordLoader")
	}
	key, absent := strings.Repeat("e", 64), strings.Repeat("f", 64)
	now := time.Now()
	saved := &store.Record{UserID: "alice", Data: []byte("cart"), Created: now, LastSeen: now,
		Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	if err := st.Save(context.Background(), key, saved); err != nil {
		t.Fatal(err)
	}
	var rec, old store.Record
	spanOf := func(sp sdktrace.ReadOnlySpan) string {
		return sp.Name() + " kind=" + sp.SpanKind().String() + " name=" + value(sp.Attributes(), keycardotel.AttrStoreName) +
			" result=" + value(sp.Attributes(), keycardotel.AttrStoreResult) +
			" count=" + value(sp.Attributes(), keycardotel.AttrStoreCount) + " status=" + sp.Status().Code.String()
	}
	var byLoad, byLoadRecord []string
	for _, c := range []struct {
		into *[]string
		load func(ctx context.Context, key string) error
	}{
		{&byLoad, func(ctx context.Context, key string) error { _, err := st.Load(ctx, key); return err }},
		{&byLoadRecord, func(ctx context.Context, key string) error { return l.LoadRecord(ctx, key, &rec) }},
	} {
		parent := s.traced("loads", func(ctx context.Context) {
			if err := c.load(ctx, key); err != nil {
				t.Fatal(err)
			}
			old = rec
			if err := c.load(ctx, absent); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("load of an absent key: got %v, want ErrNotFound", err)
			}
		})
		for _, sp := range s.ended() {
			if sp.Parent().SpanID() == parent.SpanID() {
				*c.into = append(*c.into, spanOf(sp))
			}
		}
	}
	if rec.UserID != "alice" || string(rec.Data) != "cart" || rec.Version == 0 {
		t.Errorf("LoadRecord: got user %q, data %q, version %d; want alice, cart and the stored version",
			rec.UserID, rec.Data, rec.Version)
	}
	if rec.UserID != old.UserID || rec.Version != old.Version || string(rec.Data) != string(old.Data) {
		t.Error("LoadRecord of an absent key changed the record")
	}
	if len(byLoad) != 2 || strings.Join(byLoadRecord, "\n") != strings.Join(byLoad, "\n") {
		t.Errorf("spans:\nLoadRecord %q\nLoad       %q", byLoadRecord, byLoad)
	}
	for _, result := range []string{"ok", "not_found"} {
		if got := s.calls(t, "load", result); got != 2 {
			t.Errorf("load %s measured: got %d, want 2 (one by Load, one by LoadRecord)", result, got)
		}
	}

	if is[store.RecordLoader](s.tel.Store(withCaps(memory.New(memory.Config{}), allCaps&^capRecordLoader))) {
		t.Error("a store without LoadRecord gives a wrapper with it")
	}
}

// TestWrappedStoreConformance runs the store contract over the wrapper:
// tracing changes no behaviour.
func TestWrappedStoreConformance(t *testing.T) {
	for _, c := range []caps{0, capRecordLoader, allCaps} {
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
		inner := caps(0)
		if c.index {
			inner = capUserIndex
		}
		st := s.tel.Store(withCaps(memory.New(memory.Config{}), inner))
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
