package keycard

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// Review of 8ee2b13 (the stored values envelope lives in s.rec.Data, no
// separate data field): every path that copies, saves, restores or
// replaces s.rec must leave s.rec.Data the envelope stored at
// s.rec.Version, and a failed save must leave the session's values as
// they were, so that a retry saves the right ones.

// reviewStore is a countingStore whose next saves can be told to fail or
// panic, one at a time, and which can batch (store.Batcher) unless told
// not to; a batch can be told to fail too.
type reviewStore struct {
	*countingStore
	failSaves, panicSaves, failBatches atomic.Int64
	noBatch                            bool
}

// reviewTake takes one from n if it is positive.
func reviewTake(n *atomic.Int64) bool {
	for {
		v := n.Load()
		if v <= 0 {
			return false
		}
		if n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

func (r *reviewStore) Save(ctx context.Context, key string, rec *store.Record) error {
	if reviewTake(&r.panicSaves) {
		panic("review: store panics in Save")
	}
	if reviewTake(&r.failSaves) {
		r.saves.Add(1)
		return errDown
	}
	return r.countingStore.Save(ctx, key, rec)
}

func (r *reviewStore) SaveBatch(ctx context.Context, entries []store.Entry) error {
	if r.noBatch {
		return store.ErrUnsupported
	}
	if reviewTake(&r.failBatches) {
		return errDown
	}
	return r.Store.(store.Batcher).SaveBatch(ctx, entries)
}

// reviewFixture is a fixture over a reviewStore whose handler keeps the
// last request's Session in *last.
func reviewFixture(t *testing.T, cfg Config, noBatch bool) (*fixture, *reviewStore, **Session) {
	t.Helper()
	rs := &reviewStore{countingStore: newCountingStore(), noBatch: noBatch}
	cfg.Store = rs
	f := newFixture(t, cfg)
	f.st = rs.countingStore
	last := new(*Session)
	var mu sync.Mutex
	f.h = f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*last = FromContext(r.Context())
		mu.Unlock()
		f.mux.ServeHTTP(w, r)
	}))
	return f, rs, last
}

// reviewWantStored checks that s, which has nothing unsaved, holds the
// record stored under its key: the same version, its Data the stored
// envelope, and (once decoded) the same values.
func reviewWantStored(t *testing.T, st store.Store, s *Session, what string) {
	t.Helper()
	s.mu.Lock()
	key, version, data, vals, dirty, isNew := s.key, s.rec.Version, s.rec.Data, s.vals, s.dirty(), s.isNew
	s.mu.Unlock()
	if isNew || dirty {
		t.Fatalf("%s: the session is new (%t) or has unsaved changes (%t)", what, isNew, dirty)
	}
	rec, err := st.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("%s: loading the session's record: %v", what, err)
	}
	if rec.Version != version {
		t.Errorf("%s: the session is at version %d, the store at %d", what, version, rec.Version)
	}
	if !bytes.Equal(rec.Data, data) {
		t.Errorf("%s: s.rec.Data is not the stored envelope:\n got %q\nwant %q", what, data, rec.Data)
	}
	if vals != nil && !bytes.Equal(encodeValues(vals), rec.Data) {
		t.Errorf("%s: the session's values differ from the stored ones with nothing unsaved", what)
	}
}

// reviewStoredString reads key, a string, from what is stored under the
// session's key.
func reviewStoredString(t *testing.T, f *fixture, key, k string) (string, bool) {
	t.Helper()
	rec, err := f.st.Store.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("loading %s: %v", key, err)
	}
	raw, ok := lookupValue(rec.Data, k)
	if !ok {
		return "", false
	}
	var v string
	if err := f.m.cfg.Codec.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v, true
}

// TestReviewFailedSaveKeepsTheStoredEnvelope: a save that fails (not a
// conflict) puts the stored envelope back in s.rec.Data and keeps the
// session's version and unsaved values; a retry after another writer
// stored a newer version rebases onto it and saves both writers' values.
func TestReviewFailedSaveKeepsTheStoredEnvelope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, rs, _ := reviewFixture(t, Config{}, false)
	c := f.client()
	c.get("/put?k=a&v=1")
	c.get("/put?k=b&v=2")
	s, err := f.m.Open(ctx, c.cookie)
	if err != nil {
		t.Fatal(err)
	}
	reviewWantStored(t, f.st.Store, s, "after Open")
	stored, _ := f.st.Store.Load(ctx, s.key)
	if err := s.Put("a", "10"); err != nil {
		t.Fatal(err)
	}
	rs.failSaves.Store(1)
	if err := f.m.Save(ctx, s); !errors.Is(err, errDown) {
		t.Fatalf("Save over a failing store: got %v, want the store's error", err)
	}
	if s.rec.Version != stored.Version || !bytes.Equal(s.rec.Data, stored.Data) {
		t.Errorf("after a failed save: version %d, Data %q; want the stored %d, %q", s.rec.Version, s.rec.Data, stored.Version, stored.Data)
	}
	if a, _ := Get[string](s, "a"); a != "10" {
		t.Errorf("after a failed save, a reads %q, want the unsaved 10", a)
	}
	if b, _ := Get[string](s, "b"); b != "2" {
		t.Errorf("after a failed save, b reads %q, want 2", b)
	}
	c.get("/put?k=b&v=3") // another writer: a newer version
	if err := f.m.Save(ctx, s); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	reviewWantStored(t, f.st.Store, s, "after the retry")
	for k, want := range map[string]string{"a": "10", "b": "3"} {
		if got, _ := reviewStoredString(t, f, s.key, k); got != want {
			t.Errorf("stored %s = %q, want %q", k, got, want)
		}
	}
}

// TestReviewFailedSaveAfterARebaseTakesTheNewerEnvelope: a save that
// first rebases onto a newer record (here the lane's record of another
// writer's save) and then fails leaves the session at the newer version
// with the newer record's envelope in s.rec.Data, not the one it loaded:
// a batch it leads next starts from s.rec.
func TestReviewFailedSaveAfterARebaseTakesTheNewerEnvelope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, rs, _ := reviewFixture(t, Config{}, false)
	c := f.client()
	c.get("/put?k=a&v=1")
	s, err := f.m.Open(ctx, c.cookie)
	if err != nil {
		t.Fatal(err)
	}
	c.get("/put?k=o&v=2") // another writer of this instance: the lane keeps its record
	if err := s.Put("a", "10"); err != nil {
		t.Fatal(err)
	}
	rs.failSaves.Store(1)
	if err := f.m.Save(ctx, s); !errors.Is(err, errDown) {
		t.Fatalf("Save over a failing store: got %v, want the store's error", err)
	}
	stored, _ := f.st.Store.Load(ctx, s.key)
	if s.rec.Version != stored.Version || !bytes.Equal(s.rec.Data, stored.Data) {
		t.Errorf("after a rebase and a failed save: version %d, Data %q; want the stored %d, %q",
			s.rec.Version, s.rec.Data, stored.Version, stored.Data)
	}
	if err := f.m.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	reviewWantStored(t, f.st.Store, s, "after the retry")
	for k, want := range map[string]string{"a": "10", "o": "2"} {
		if got, _ := reviewStoredString(t, f, s.key, k); got != want {
			t.Errorf("stored %s = %q, want %q", k, got, want)
		}
	}
}

// TestReviewFailedMetadataSaveKeepsTheValues: a save of metadata alone
// (no value changed, so the values saved are s.rec.Data itself) that
// fails keeps the values; the retry stores them with the metadata.
func TestReviewFailedMetadataSaveKeepsTheValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, rs, _ := reviewFixture(t, Config{}, false)
	c := f.client()
	c.get("/put?k=a&v=1")
	s, err := f.m.Open(ctx, c.cookie)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.m.RememberMe(s, true); err != nil {
		t.Fatal(err)
	}
	rs.failSaves.Store(1)
	if err := f.m.Save(ctx, s); !errors.Is(err, errDown) {
		t.Fatalf("Save over a failing store: got %v, want the store's error", err)
	}
	if s.vals != nil {
		t.Fatal("a metadata change decoded the values: this test no longer covers the undecoded path")
	}
	if a, _ := Get[string](s, "a"); a != "1" {
		t.Errorf("after a failed save, a reads %q, want 1", a)
	}
	if err := f.m.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	reviewWantStored(t, f.st.Store, s, "after the retry")
	rec, _ := f.st.Store.Load(ctx, s.key)
	if a, _ := reviewStoredString(t, f, s.key, "a"); a != "1" || !rec.Persistent {
		t.Errorf("stored a = %q, persistent %t; want 1, true", a, rec.Persistent)
	}
}

// TestReviewFailedUpdateKeepsTheStoredEnvelope: an Update whose save fails
// leaves the value and s.rec.Data as stored; a later save of another
// change does not store the failed Update's value.
func TestReviewFailedUpdateKeepsTheStoredEnvelope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, rs, _ := reviewFixture(t, Config{}, false)
	c := f.client()
	c.get("/put?k=a&v=1")
	s, err := f.m.Open(ctx, c.cookie)
	if err != nil {
		t.Fatal(err)
	}
	inc := func(n int) int { return n + 1 }
	if n, err := Update(ctx, s, "n", inc); err != nil || n != 1 {
		t.Fatalf("Update: %d, %v", n, err)
	}
	reviewWantStored(t, f.st.Store, s, "after an Update")
	rs.failSaves.Store(1)
	if _, err := Update(ctx, s, "n", inc); !errors.Is(err, errDown) {
		t.Fatalf("Update over a failing store: got %v, want the store's error", err)
	}
	if n, _ := Get[int](s, "n"); n != 1 {
		t.Errorf("after a failed Update, n reads %d, want 1", n)
	}
	stored, _ := f.st.Store.Load(ctx, s.key)
	if !bytes.Equal(s.rec.Data, stored.Data) || s.rec.Version != stored.Version {
		t.Error("after a failed Update, s.rec is not the stored record")
	}
	if err := s.Put("x", "y"); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	reviewWantStored(t, f.st.Store, s, "after saving another change")
	if n := storedInt(t, f, c.cookie, "n"); n != 1 {
		t.Errorf("stored n = %d, want 1: the failed Update's value was saved", n)
	}
}

// TestReviewPanickingSaveThenRetry: a store whose Save panics (recovered
// by the caller) leaves a session whose retry, alone or leading a batch,
// stores the right values.
func TestReviewPanickingSaveThenRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, rs, _ := reviewFixture(t, Config{}, false)
	c := f.client()
	c.get("/put?k=a&v=1")
	s, err := f.m.Open(ctx, c.cookie)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Update(ctx, s, "n", func(n int) int { return n + 5 }); err != nil {
		t.Fatal(err)
	}
	s.Put("a", "2")
	rs.panicSaves.Store(1)
	func() {
		defer func() { recover() }()
		f.m.Save(ctx, s)
		t.Error("Save did not panic")
	}()
	if n, err := Update(ctx, s, "n", func(n int) int { return n + 1 }); err != nil || n != 6 {
		t.Errorf("an Update after the panic: %d, %v; want 6", n, err)
	}
	reviewWantStored(t, f.st.Store, s, "after the Update")
	if a, _ := reviewStoredString(t, f, s.key, "a"); a != "2" {
		t.Errorf("stored a = %q, want 2", a)
	}
	if n := storedInt(t, f, c.cookie, "n"); n != 6 {
		t.Errorf("stored n = %d, want 6", n)
	}
}

// reviewBatch opens three sessions of one stored session (so all three
// load the same version), changes one key in each, and saves them at once
// over a gated store: the first holds the lane while its save waits at
// the gate, the second leads a batch with the third. hook, if set, runs
// at the batch's save.
func reviewBatch(t *testing.T, hook func(gs *gatedStore)) (f *fixture, gs *gatedStore, ss [3]*Session, errs [3]error, loaded *store.Record) {
	t.Helper()
	ctx := context.Background()
	gs = &gatedStore{countingStore: newCountingStore(), gate: make(chan struct{})}
	close(gs.gate)
	f = newFixture(t, Config{Store: gs})
	f.st = gs.countingStore
	c := f.client()
	c.get("/login?u=alice")
	c.get("/put?k=base&v=0")
	gs.gate = make(chan struct{})
	gs.saves.Store(0)
	for i := range ss {
		s, err := f.m.Open(ctx, c.cookie)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put("w"+string(rune('0'+i)), "v"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
		ss[i] = s
	}
	loaded, _ = f.st.Store.Load(ctx, ss[0].key)
	if hook != nil {
		gs.hookAt, gs.hook = 2, func() { hook(gs) }
	}
	var wg sync.WaitGroup
	save := func(i int) func() { return func() { errs[i] = f.m.Save(ctx, ss[i]) } }
	queueBehind(t, f, ss[0].key, &wg, save(0), save(1), save(2))
	close(gs.gate)
	waitAll(t, &wg, "the batch")
	return f, gs, ss, errs, loaded
}

// TestReviewBatchFailureRestoresTheLeader: a batch whose save fails puts
// the leader's state back as it was before the batch: its version and
// s.rec.Data those it loaded, its own change still unsaved, nothing of
// the other writers'; its retry then stores its change over the newest
// record.
func TestReviewBatchFailureRestoresTheLeader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, gs, ss, errs, loaded := reviewBatch(t, func(gs *gatedStore) { gs.countingStore.fail.Store(true) })
	gs.countingStore.fail.Store(false)
	if errs[0] != nil || !errors.Is(errs[1], errDown) || !errors.Is(errs[2], errDown) {
		t.Fatalf("saves returned %v, want nil, then the store's error twice", errs)
	}
	lead := ss[1]
	if lead.rec.Version != loaded.Version || !bytes.Equal(lead.rec.Data, loaded.Data) {
		t.Errorf("the leader after its failed batch: version %d, Data %q; want what it loaded, %d, %q",
			lead.rec.Version, lead.rec.Data, loaded.Version, loaded.Data)
	}
	if v, _ := Get[string](lead, "w1"); v != "v1" || !lead.dirty() {
		t.Errorf("the leader's own change: %q (dirty %t), want v1, unsaved", v, lead.dirty())
	}
	if _, ok := Get[string](lead, "w2"); ok {
		t.Error("the leader kept the served writer's change after the batch failed")
	}
	for i, s := range ss[1:] {
		if err := f.m.Save(ctx, s); err != nil {
			t.Fatalf("retry %d: %v", i+1, err)
		}
		reviewWantStored(t, f.st.Store, s, "after a retry")
	}
	for _, k := range []string{"base", "w0", "w1", "w2"} {
		if _, ok := reviewStoredString(t, f, ss[0].key, k); !ok {
			t.Errorf("%s is not stored", k)
		}
	}
}

// TestReviewServedWritersTakeTheStoredEnvelope: after a batch, its leader
// and the writer it served both hold the stored record, Data included
// (the served writer reads the others' values from it), and a later save
// of the served writer keeps everything.
func TestReviewServedWritersTakeTheStoredEnvelope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, _, ss, errs, _ := reviewBatch(t, nil)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	reviewWantStored(t, f.st.Store, ss[1], "the leader")
	reviewWantStored(t, f.st.Store, ss[2], "the served writer")
	if ss[2].vals != nil {
		t.Error("the served writer kept decoded values: its reads do not come from the adopted Data")
	}
	if v, _ := Get[string](ss[2], "w1"); v != "v1" {
		t.Errorf("the served writer reads the leader's change as %q, want v1", v)
	}
	if err := ss[2].Put("after", "x"); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Save(ctx, ss[2]); err != nil {
		t.Fatal(err)
	}
	reviewWantStored(t, f.st.Store, ss[2], "the served writer after a save of its own")
	for _, k := range []string{"base", "w0", "w1", "w2", "after"} {
		if _, ok := reviewStoredString(t, f, ss[2].key, k); !ok {
			t.Errorf("%s is not stored", k)
		}
	}
}

// TestReviewRenewalAndRotationKeepTheEnvelope: every commit that moves the
// session (a login's renewal, a periodic rotation, with a store that can
// batch and one that cannot) leaves s.rec.Data the envelope stored under
// the new key, and the values move with it.
func TestReviewRenewalAndRotationKeepTheEnvelope(t *testing.T) {
	t.Parallel()
	for _, noBatch := range []bool{false, true} {
		f, _, last := reviewFixture(t, Config{RotateEvery: time.Nanosecond}, noBatch)
		c := f.client()
		step := func(target string) {
			t.Helper()
			if w := c.do("GET", target); w.Code != http.StatusOK {
				t.Fatalf("noBatch %t, %s: %d %s", noBatch, target, w.Code, w.Body)
			}
			reviewWantStored(t, f.st.Store, *last, target)
		}
		step("/put?k=a&v=1")
		step("/login?u=alice")
		for range 3 {
			step("/get?k=a") // loads the session, so that its commit may rotate it
			step("/put?k=b&v=2")
		}
		if f.events.countReason(event.Renewed, event.ReasonRotate) == 0 {
			t.Errorf("noBatch %t: the session never rotated: the test covers no rotation", noBatch)
		}
		if got := c.get("/get?k=a") + c.get("/get?k=b"); got != "12" {
			t.Errorf("noBatch %t: values read %q after the moves, want 12", noBatch, got)
		}
	}
}

// TestReviewFailedRenewalKeepsTheEnvelope: a renewal whose store call
// fails leaves the session under its old key with the record stored
// there, Data included.
func TestReviewFailedRenewalKeepsTheEnvelope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, noBatch := range []bool{false, true} {
		f, rs, _ := reviewFixture(t, Config{}, noBatch)
		c := f.client()
		c.get("/login?u=alice")
		c.get("/put?k=a&v=1")
		s, err := f.m.Open(ctx, c.cookie)
		if err != nil {
			t.Fatal(err)
		}
		key := s.key
		rs.failBatches.Store(1)
		rs.failSaves.Store(1)
		if err := f.m.Renew(ctx, s); !errors.Is(err, errDown) {
			t.Fatalf("noBatch %t: Renew over a failing store: got %v, want the store's error", noBatch, err)
		}
		if s.key != key {
			t.Fatalf("noBatch %t: a failed renewal moved the session", noBatch)
		}
		stored, _ := f.st.Store.Load(ctx, key)
		if !bytes.Equal(s.rec.Data, stored.Data) || s.rec.Version != stored.Version {
			t.Errorf("noBatch %t: after a failed renewal, s.rec is not the record stored under the old key", noBatch)
		}
		if a, _ := Get[string](s, "a"); a != "1" {
			t.Errorf("noBatch %t: a reads %q, want 1", noBatch, a)
		}
	}
}

// TestReviewFailedImpersonationKeepsTheActorsValues: a change the actor's
// request made before an Impersonate that fails is saved with the actor's
// session by the commit, over the actor's stored values.
func TestReviewFailedImpersonationKeepsTheActorsValues(t *testing.T) {
	t.Parallel()
	sf := saveFails{newCountingStore()}
	f := newFixture(t, Config{Store: sf})
	f.st = sf.countingStore
	impersonationFixture(t, f)
	var last *Session
	f.mux.HandleFunc("/putas", func(w http.ResponseWriter, r *http.Request) {
		last = FromContext(r.Context())
		last.Put("cart", "x")
		if err := f.m.Impersonate(r.Context(), last, "bob", time.Hour); err == nil {
			t.Error("Impersonate succeeded over a store that refuses bob's record")
		}
		stored, err := f.st.Store.Load(r.Context(), last.key)
		if err != nil {
			t.Fatal(err)
		}
		if last.rec.Version != stored.Version || last.rec.UserID != "alice" || !bytes.Equal(last.rec.Data, stored.Data) {
			t.Errorf("after the failed Impersonate, s.rec is not the actor's stored record: version %d, user %q, Data %q",
				last.rec.Version, last.rec.UserID, last.rec.Data)
		}
	})
	c := f.client()
	c.get("/login?u=alice")
	c.get("/put?k=a&v=1")
	own := c.cookie
	c.get("/putas")
	if c.cookie != own {
		t.Fatal("the failed impersonation changed the actor's cookie")
	}
	reviewWantStored(t, f.st.Store, last, "the actor's session after the failed impersonation")
	if got := c.get("/get?k=a") + c.get("/get?k=cart") + c.get("/user"); got != "1xalice" {
		t.Errorf("after the failed impersonation: %q, want 1xalice", got)
	}
}

// TestReviewThreeDuplicateCookiesAreRefused: the cookie count is kept as
// at most 2; three cookies of the session's name are refused as
// duplicates as two are, and still count as a presented token for the
// refusal limit.
func TestReviewThreeDuplicateCookiesAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/put?k=who&v=me")
	name := f.m.cfg.Cookie.Name
	r := httptest.NewRequest("GET", "/get?k=who", nil)
	r.Header.Set("Cookie", name+"="+c.cookie+"; "+name+"="+c.cookie+"; "+name+"="+c.cookie)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if got := w.Body.String(); got != "" {
		t.Errorf("three copies of the cookie read the session: %q", got)
	}
	if !f.events.has(event.Rejected, event.ReasonDuplicate) {
		t.Error("no duplicate-cookie event")
	}
	s := f.m.newSession(r)
	if s.cookies != 2 {
		t.Errorf("three cookies counted as %d, want 2", s.cookies)
	}
}

// TestReviewFailedLoginDoesNotBindThePresentedID (found while reviewing
// the renewal paths; older than 8ee2b13, it fails at 8ee2b13^ too): a
// Login whose renewal fails (a store error) has already set the user,
// and the session's metadata stays changed, so the request's commit
// saves the session bound to the user under the ID the client presented
// before logging in, the ID a session-fixation attacker planted. Login
// must put the session's user and metadata back when renew fails (as
// Impersonate puts the actor's session back), so that the old ID never
// carries the new user.
func TestReviewFailedLoginDoesNotBindThePresentedID(t *testing.T) {
	t.Parallel()
	for _, noBatch := range []bool{true, false} {
		f, rs, _ := reviewFixture(t, Config{}, noBatch)
		c := f.client()
		c.get("/put?k=a&v=1")
		planted := c.cookie
		if noBatch {
			rs.failSaves.Store(1) // the renewal's save under the new ID
		} else {
			rs.failBatches.Store(1) // the renewal's one batch
		}
		if w := c.do("GET", "/login?u=alice"); w.Code == http.StatusOK {
			t.Fatalf("noBatch %t: the login succeeded over a failing store", noBatch)
		}
		if got := (&client{f: f, cookie: planted}).get("/user"); got != "" {
			t.Errorf("noBatch %t: after a failed login, the ID presented before it is signed in as %q", noBatch, got)
		}
	}
}
