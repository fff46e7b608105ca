package memcached_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memcached"
)

// fixture is a store under a prefix of its own, on a clock that reads the
// real time truncated to the microsecond, as the conformance suite's does.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	c      *memcache.Client
	s      *memcached.Store
	prefix string
}

func newFixture(t *testing.T, cfg memcached.Config) *fixture {
	t.Helper()
	c := newClient(t)
	cfg.Prefix = newPrefix()
	return &fixture{t: t, ctx: t.Context(), c: c, s: memcached.New(c, cfg), prefix: cfg.Prefix}
}

// record returns a record for user "alice" with data, timed at the real
// current time.
func record(data []byte) *store.Record {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return &store.Record{
		UserID: "alice", Created: now, LastSeen: now, Expires: now.Add(30 * time.Minute),
		Deadline: now.Add(8 * time.Hour), IP: "192.0.2.1", UserAgent: "test/1.0", Data: data,
	}
}

func (f *fixture) save(key string, rec *store.Record) {
	f.t.Helper()
	if err := f.s.Save(f.ctx, key, rec); err != nil {
		f.t.Fatalf("Save(version %d): %v", rec.Version, err)
	}
}

func (f *fixture) load(key string) *store.Record {
	f.t.Helper()
	rec, err := f.s.Load(f.ctx, key)
	if err != nil {
		f.t.Fatalf("Load: %v", err)
	}
	return rec
}

// items returns the keys of the items the store holds, sorted.
func (f *fixture) items() []string {
	f.t.Helper()
	keys := dumpKeys(f.t, f.prefix)
	slices.Sort(keys)
	return keys
}

func TestRecordLivingPast30DaysIsSentWithAnAbsoluteExpiration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memcached.Config{})
	key := keyOf("remembered")
	rec := record([]byte("remember me"))
	rec.Persistent = true
	rec.Deadline = rec.Created.Add(45 * 24 * time.Hour)
	rec.Expires = rec.Deadline
	before := time.Now()
	f.save(key, rec)
	after := time.Now()

	// Sent as 45 days of seconds, the expiration would be read as a Unix
	// time in 1970 and the item would be gone already.
	if got := f.load(key); !bytes.Equal(got.Data, rec.Data) || !got.Deadline.Equal(rec.Deadline) {
		t.Fatalf("Load: got %+v, want the record saved", got)
	}
	items, err := dump(f.prefix + key)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("got %d items for the key, want 1", len(items))
	}
	// An absolute expiration is the wall clock during Save plus the time
	// the record has left, rounded up, plus a second: never before the
	// deadline, and later by as much as Save took, which the clock read
	// around it bounds (no fixed slack: a loaded machine can take seconds).
	exp, want, latest := items[0].exp, rec.Deadline.Unix(), after.Unix()+secondsLeft(rec.Deadline, before)
	if exp < want || exp > latest {
		t.Errorf("item expires at %d (%v), want %d (%v) or up to %d s later",
			exp, time.Unix(exp, 0).UTC(), want, rec.Deadline, latest-want)
	}
}

func TestItemExpirationFollowsTouch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memcached.Config{})
	key := keyOf("touched")
	rec := record([]byte("x"))
	rec.Expires = rec.Created.Add(10 * time.Minute)
	lo, hi := expiryWindow(t, rec.Expires, func() { f.save(key, rec) })
	if exp := itemExpiration(t, f.prefix+key); exp < lo || exp > hi {
		t.Errorf("after Save: item expires at %d, want %d to %d (Expires %d)", exp, lo, hi, rec.Expires.Unix())
	}
	expires := rec.Created.Add(20 * time.Minute)
	lo, hi = expiryWindow(t, expires, func() {
		if err := f.s.Touch(f.ctx, key, rec.Created.Add(time.Minute), expires); err != nil {
			t.Fatalf("Touch: %v", err)
		}
	})
	if exp := itemExpiration(t, f.prefix+key); exp < lo || exp > hi {
		t.Errorf("after Touch: item expires at %d, want %d to %d (Expires %d)", exp, lo, hi, expires.Unix())
	}
	got := f.load(key)
	if !got.Expires.Equal(expires) || !got.LastSeen.Equal(rec.Created.Add(time.Minute)) || got.Version != 1 {
		t.Errorf("after Touch: got %+v, want the new LastSeen and Expires at version 1", got)
	}
}

// itemExpiration returns the absolute expiration of the item key.
func itemExpiration(t *testing.T, key string) int64 {
	t.Helper()
	items, err := dump(key)
	if err != nil || len(items) != 1 {
		t.Fatalf("dump(%q): got %v, %v, want one item", key, items, err)
	}
	return items[0].exp
}

// serverTime returns memcached's clock in Unix seconds, the "time" of its
// stats: the clock to which it adds a relative expiration, and in which
// it reports expirations and decides that an item has expired. It ticks
// once a second and may lag the wall clock, by more on a loaded machine.
func serverTime(t *testing.T) int64 {
	t.Helper()
	now, ok := stats(t, "")["time"]
	if !ok {
		t.Fatal("stats: no time")
	}
	return now
}

// secondsLeft is the relative expiration the store sends for a record
// dying at until when its clock reads now: the time left, rounded up to
// whole seconds, plus one for memcached's coarse clock (see expiration).
func secondsLeft(until, now time.Time) int64 {
	d := until.Sub(now)
	secs := int64(d / time.Second)
	if d%time.Second != 0 {
		secs++
	}
	return secs + 1
}

// expiryWindow runs op, which stores or touches a record dying at until
// (within 30 days, so with a relative expiration), and returns the
// earliest and latest absolute expiration memcached can have given its
// item. The store reads its clock during op, and memcached adds the
// seconds it is sent to its own clock, so the window comes from both
// clocks read before and after op: a slow op or a lagging server clock
// widens it, where a fixed slack would fail on a loaded machine.
func expiryWindow(t *testing.T, until time.Time, op func()) (lo, hi int64) {
	t.Helper()
	s0, w0 := serverTime(t), time.Now()
	op()
	w1, s1 := time.Now(), serverTime(t)
	return s0 + secondsLeft(until, w1), s1 + secondsLeft(until, w0)
}

func TestMemcachedDropsRecordsAtTheirExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memcached.Config{})
	key := keyOf("short-lived")
	rec := record([]byte("short"))
	rec.Expires = time.Now().Add(time.Second)
	lo, hi := expiryWindow(t, rec.Expires, func() { f.save(key, rec) })
	// The item must be there until memcached's clock reaches its
	// expiration, which is at lo at the earliest. A machine slow enough
	// that the clock got there before the get proves nothing either way.
	_, err := f.c.Get(f.prefix + key)
	switch now := serverTime(t); {
	case err == nil:
	case err == memcache.ErrCacheMiss && now < lo:
		t.Fatalf("get right after Save: a cache miss at server time %d, before the item's expiration (%d at the earliest)", now, lo)
	case err == memcache.ErrCacheMiss:
		t.Logf("get right after Save: a cache miss at server time %d, past the item's earliest expiration %d: the machine is slow", now, lo)
	default:
		t.Fatalf("get right after Save: %v", err)
	}
	// The item expires once memcached's clock reaches its expiration, at
	// hi at the latest: wait for the clock, not for a guessed duration.
	waitForServerTime(t, hi)
	if _, err := f.c.Get(f.prefix + key); err != memcache.ErrCacheMiss {
		t.Errorf("get at server time %d, when the item had expired (at %d to %d): got %v, want a cache miss", serverTime(t), lo, hi, err)
	}
}

// waitForServerTime waits until memcached's clock reads at least when,
// and fails t if it has not a minute after the wall clock got there: a
// generous bound, since the server's clock may lag on a loaded machine.
func waitForServerTime(t *testing.T, when int64) {
	t.Helper()
	limit := time.Unix(when, 0).Add(time.Minute)
	for serverTime(t) < when {
		if time.Now().After(limit) {
			t.Fatalf("memcached's clock reads %d a minute after the wall clock reached %d: is the server stalled?", serverTime(t), when)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestOpaqueKeysThatMemcachedRefusesAreHashed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memcached.Config{})
	keys := []string{"has space", "line\nbreak", "ユーザー", strings.Repeat("k", 300), "", "A", "a", keyOf("digest")}
	for i, key := range keys {
		f.save(key, record([]byte{byte(i)}))
	}
	for i, key := range keys {
		if got := f.load(key); !bytes.Equal(got.Data, []byte{byte(i)}) {
			t.Errorf("Load(%q): got data %v, want [%d]", key, got.Data, i)
		}
		if err := f.s.Touch(f.ctx, key, time.Now(), time.Now().Add(time.Hour)); err != nil {
			t.Errorf("Touch(%q): %v", key, err)
		}
		if err := f.s.Delete(f.ctx, key); err != nil {
			t.Errorf("Delete(%q): %v", key, err)
		}
	}
	if left := f.items(); len(left) != 0 {
		t.Errorf("after deleting every key: items %q left, want none", left)
	}
}

func TestLargeRecordsAreChunkedAndChunksCleanedUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memcached.Config{MaxItemSize: 8 << 10})
	key := keyOf("large")
	data := bytes.Repeat([]byte("0123456789abcdef"), 2000) // 32,000 bytes: 5 chunks of 7.5 KiB
	rec := record(data)
	f.save(key, rec)
	if got := f.items(); len(got) != 6 {
		t.Fatalf("after create: got items %q, want the record and 5 chunks", got)
	}
	created := f.items()

	got := f.load(key)
	if !bytes.Equal(got.Data, data) || got.Version != 1 {
		t.Fatalf("Load: got %d bytes at version %d, want the %d saved at version 1", len(got.Data), got.Version, len(data))
	}
	got.Data = bytes.Repeat([]byte("fedcba9876543210"), 1500)
	f.save(key, got)
	after := f.items()
	if len(after) != 5 || slices.ContainsFunc(after, func(k string) bool { return k != f.prefix+key && slices.Contains(created, k) }) {
		t.Errorf("after update: got items %q, want the record and 4 new chunks, none of %q", after, created)
	}
	if err := f.s.Touch(f.ctx, key, time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	if again := f.load(key); !bytes.Equal(again.Data, got.Data) || again.Version != 2 {
		t.Errorf("after Touch: got %d bytes at version %d, want the %d saved at version 2", len(again.Data), again.Version, len(got.Data))
	}
	if err := f.s.Delete(f.ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if left := f.items(); len(left) != 0 {
		t.Errorf("after Delete: items %q left, want none", left)
	}
}

func TestRecordWhoseChunkWasEvictedIsAbsent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memcached.Config{MaxItemSize: 8 << 10})
	key := keyOf("evicted")
	rec := record(bytes.Repeat([]byte{7}, 20_000))
	f.save(key, rec)
	var chunk string
	for _, k := range f.items() {
		if k != f.prefix+key {
			chunk = k
		}
	}
	if err := f.c.Delete(chunk); err != nil { // as memcached's LRU might
		t.Fatal(err)
	}
	if _, err := f.s.Load(f.ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Load: got %v, want ErrNotFound", err)
	}
	if err := f.s.Touch(f.ctx, key, time.Now(), time.Now().Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Touch after Load found the chunk gone: got %v, want ErrNotFound", err)
	}
	stale := rec.Clone()
	stale.Version = 1
	if err := f.s.Save(f.ctx, key, stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Save(version 1): got %v, want ErrConflict", err)
	}
	fresh := record([]byte("fresh"))
	f.save(key, fresh)
	if got := f.load(key); string(got.Data) != "fresh" || got.Version != 1 {
		t.Errorf("after Save(version 0): got %q at version %d, want %q at version 1", got.Data, got.Version, "fresh")
	}
}

func TestUnreachableServerErrorsNameTheStore(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused
	c := memcache.New(addr)
	defer c.Close()
	s := memcached.New(c, memcached.Config{})
	ctx, key, now := t.Context(), keyOf("unreachable"), time.Now()
	rec := record(nil)
	_, loadErr := s.Load(ctx, key)
	updated := rec.Clone()
	updated.Version = 3
	for op, err := range map[string]error{
		"load":   loadErr,
		"save":   s.Save(ctx, key, rec),
		"save ":  s.Save(ctx, key, updated),
		"delete": s.Delete(ctx, key),
		"touch":  s.Touch(ctx, key, now, now.Add(time.Hour)),
	} {
		var opErr *net.OpError
		if want := "memcached store: " + strings.TrimSpace(op) + ": "; err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &opErr) {
			t.Errorf("%s: got error %v, want one starting %q that wraps the *net.OpError", op, err, want)
		}
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: got %v, a sentinel that hides the failure", op, err)
		}
	}
}

// The store has no per-user index on purpose: keycard reports "log out
// everywhere" as unsupported rather than revoking only what an index that
// memcached may have evicted still lists.
func TestLogOutEverywhereIsUnsupported(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memcached.Config{})
	if _, ok := any(f.s).(store.UserIndex); ok {
		t.Fatal("Store implements store.UserIndex, want it not to")
	}
	m, err := keycard.New(keycard.Config{Store: f.s, Keys: []keycard.Key{keycard.NewKey()}, OnEvent: func(event.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.RevokeUser(f.ctx, "alice"); !errors.Is(err, store.ErrUnsupported) {
		t.Errorf("RevokeUser: got %v, want ErrUnsupported", err)
	}
}

// keyOf returns a key shaped like the Manager's: the hex SHA-256 of name.
func keyOf(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// Config.RevokedBefore is the way to log a user out everywhere with this
// store: the revocation time lives in the application's own durable
// storage, and no memcached index is involved.
func TestRevokedBeforeLogsOutEverywhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memcached.Config{})
	var revoked atomic.Int64 // Unix nanoseconds; 0 for none
	m, err := keycard.New(keycard.Config{
		Store: f.s, Keys: []keycard.Key{keycard.NewKey()}, OnEvent: func(event.Event) {},
		RevokedBefore: func(ctx context.Context, userID string) (time.Time, error) {
			if n := revoked.Load(); n != 0 && userID == "alice" {
				return time.Unix(0, n), nil
			}
			return time.Time{}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), "alice"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, keycard.FromContext(r.Context()).UserID())
	})
	laptop, phone := &instance{h: m.Handler(mux)}, &instance{h: m.Handler(mux)}
	laptop.do(t, "/login")
	phone.do(t, "/login")
	if n := len(f.items()); n != 2 {
		t.Fatalf("after two logins: %d records, want 2", n)
	}
	revoked.Store(time.Now().Add(time.Second).UnixNano())
	for name, device := range map[string]*instance{"laptop": laptop, "phone": phone} {
		if got := device.do(t, "/whoami"); got != "" {
			t.Errorf("%s after the revocation: user %q, want none", name, got)
		}
	}
	if left := f.items(); len(left) != 0 {
		t.Errorf("after the revocation: records %q left, want none", left)
	}
}

func TestRecordSavedExpiredIsNotKept(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memcached.Config{})
	key := keyOf("dead on arrival")
	rec := record([]byte("late"))
	rec.Expires = time.Now().Add(-time.Second)
	f.save(key, rec)
	if _, err := f.c.Get(f.prefix + key); err != memcache.ErrCacheMiss {
		t.Errorf("get of the item: got %v, want a cache miss", err)
	}
	if _, err := f.s.Load(f.ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Load: got %v, want ErrNotFound", err)
	}
}
