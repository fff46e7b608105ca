package guard_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/guard"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/storetest"
)

// from returns a login request from the client address addr.
func from(addr string) *http.Request {
	r := httptest.NewRequest("POST", "/login", nil)
	r.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(addr), 40000).String()
	return r
}

// events records a Manager's events.
type events struct {
	mu  sync.Mutex
	evs []event.Event
}

func (e *events) add(ev event.Event) { e.mu.Lock(); e.evs = append(e.evs, ev); e.mu.Unlock() }

func (e *events) all() []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]event.Event(nil), e.evs...)
}

// newManager returns a Manager whose events go to evs.
func newManager(t *testing.T, evs *events, keys ...keycard.Key) *keycard.Manager {
	t.Helper()
	m, err := keycard.New(keycard.Config{Keys: keys, OnEvent: evs.add})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// recordingStore is a store that remembers every key saved to it.
type recordingStore struct {
	store.Store
	mu   sync.Mutex
	keys map[string]bool
}

func newRecordingStore() *recordingStore {
	return &recordingStore{Store: memory.New(memory.Config{}), keys: map[string]bool{}}
}

func (s *recordingStore) Save(ctx context.Context, key string, rec *store.Record) error {
	s.mu.Lock()
	s.keys[key] = true
	s.mu.Unlock()
	return s.Store.Save(ctx, key, rec)
}

func TestLimitThenWaitThenSucceed(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	var evs events
	m := newManager(t, &evs)
	lim := guard.New(guard.Config{Limit: 3, Window: 10 * time.Minute, Manager: m, Now: clock.Now})
	ctx := context.Background()
	r := from("192.0.2.1")
	for i := 1; i <= 3; i++ {
		if wait, err := lim.Check(ctx, "alice", r); err != nil || wait != 0 {
			t.Fatalf("attempt %d: wait %v, %v before reaching the limit", i, wait, err)
		}
		wait, err := lim.Fail(ctx, "alice", r)
		if err != nil {
			t.Fatal(err)
		}
		if (i < 3) != (wait == 0) {
			t.Fatalf("after failure %d: wait %v", i, wait)
		}
	}
	clock.Advance(4 * time.Minute)
	if wait, _ := lim.Check(ctx, "alice", r); wait != 6*time.Minute {
		t.Errorf("got wait %v, want 6m (the window's rest)", wait)
	}
	if wait, _ := lim.Check(ctx, "bob", r); wait != 0 {
		t.Errorf("another account from the same network must wait %v", wait)
	}
	if wait, _ := lim.Check(ctx, "alice", from("192.0.2.2")); wait != 0 {
		t.Errorf("the account from another network must wait %v", wait)
	}
	clock.Advance(6 * time.Minute)
	if wait, _ := lim.Check(ctx, "alice", r); wait != 0 {
		t.Errorf("after the window: wait %v", wait)
	}
	lim.Fail(ctx, "alice", r)
	lim.Fail(ctx, "alice", r)
	if err := lim.Succeed(ctx, "alice", r); err != nil {
		t.Fatal(err)
	}
	lim.Fail(ctx, "alice", r)
	if wait, _ := lim.Check(ctx, "alice", r); wait != 0 {
		t.Errorf("Succeed did not clear the client's count: wait %v", wait)
	}
	got := evs.all()
	if len(got) != 1 || got[0].Kind != guard.EventLimit || got[0].Reason != guard.ReasonLimit {
		t.Fatalf("got events %+v, want one %s", got, guard.EventLimit)
	}
	attrs := map[string]string{}
	for _, a := range got[0].Attrs {
		attrs[a.Key] = a.Value.String()
	}
	if attrs["scope"] != guard.ScopeClient || attrs["failures"] != "3" || attrs["network"] != "192.0.2.1/32" || len(attrs["key"]) != 16 {
		t.Errorf("event attrs %v, want scope client, 3 failures, network 192.0.2.1/32 and a key prefix", attrs)
	}
}

// F2: an attacker failing logins for a user from 50 networks does not
// stop that user from signing in from their own address with the right
// password: the account-wide count only slows attempts (by Delay), and
// never refuses one from a network that has not itself failed. Each of the
// attacker's networks is refused for the account once it reaches Limit.
// And a single network that keeps failing, for any accounts, is refused,
// the right password included.
func TestAttackerCannotLockOutAUser(t *testing.T) {
	t.Parallel()
	for _, family := range []string{"IPv4 /32s", "IPv6 /64s"} {
		t.Run(family, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var evs events
				lim := guard.New(guard.Config{Manager: newManager(t, &evs)})
				ctx := context.Background()
				attacker := func(i int) *http.Request {
					if family == "IPv4 /32s" {
						return from(fmt.Sprintf("198.51.100.%d", i+1))
					}
					return from(fmt.Sprintf("2001:db8:%x::%x", i+1, i+7))
				}
				refused := 0
				for i := range 50 {
					r := attacker(i)
					for range guard.DefaultLimit + 2 {
						wait, err := lim.Check(ctx, "alice", r)
						if err != nil {
							t.Fatal(err)
						}
						if wait > 0 {
							refused++
							continue
						}
						lim.Fail(ctx, "alice", r)
					}
				}
				if want := 50 * 2; refused != want {
					t.Errorf("the attacker's networks were refused %d times, want %d (each after %d failures)", refused, want, guard.DefaultLimit)
				}

				// Alice, from her own address, with the right password.
				own := from("192.0.2.10")
				if family != "IPv4 /32s" {
					own = from("2001:db8:ffff::1")
				}
				start := time.Now()
				wait, err := lim.Check(ctx, "alice", own)
				if err != nil || wait != 0 {
					t.Fatalf("alice from her own network: wait %v, %v; want 0: the attacker locked her out", wait, err)
				}
				if d := time.Since(start); d != guard.DefaultDelay {
					t.Errorf("alice's attempt took %v; want the account-wide delay %v", d, guard.DefaultDelay)
				}
				if err := lim.Succeed(ctx, "alice", own); err != nil {
					t.Fatal(err)
				}
				if wait, _ := lim.Check(ctx, "alice", attacker(0)); wait == 0 {
					t.Error("an attacker's network was let in again by alice's success")
				}
				scopes := map[string]int{}
				for _, ev := range evs.all() {
					for _, a := range ev.Attrs {
						if a.Key == "scope" {
							scopes[a.Value.String()]++
						}
					}
				}
				if scopes[guard.ScopeClient] != 50 || scopes[guard.ScopeAccount] != 1 {
					t.Errorf("events by scope %v, want 50 client and 1 account", scopes)
				}
			})
		})
	}

	t.Run("a network that keeps failing is refused", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lim := guard.New(guard.Config{})
			ctx := context.Background()
			// One /64, a new address and a new account for every guess.
			for i := range guard.DefaultNetworkLimit {
				r := from(fmt.Sprintf("2001:db8:7::%x", i+1))
				account := fmt.Sprintf("user%d", i)
				if wait, _ := lim.Check(ctx, account, r); wait != 0 {
					t.Fatalf("guess %d refused before the network's limit", i)
				}
				lim.Fail(ctx, account, r)
			}
			for _, addr := range []string{"2001:db8:7::1", "2001:db8:7:0:ffff:ffff:ffff:ffff"} {
				if wait, _ := lim.Check(ctx, "bob", from(addr)); wait <= 0 {
					t.Errorf("%s, in the failing /64, with a fresh account: wait %v, want refused", addr, wait)
				}
			}
			if wait, _ := lim.Check(ctx, "bob", from("2001:db8:8::1")); wait != 0 {
				t.Errorf("the next /64 must wait %v", wait)
			}
		})
	})
}

func TestAccountDelay(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		lim := guard.New(guard.Config{AccountLimit: 2, Delay: 3 * time.Second})
		ctx := context.Background()
		lim.Fail(ctx, "alice", from("192.0.2.1"))
		check := func(ctx context.Context) (time.Duration, error) {
			start := time.Now()
			_, err := lim.Check(ctx, "alice", from("192.0.2.9"))
			return time.Since(start), err
		}
		if d, err := check(ctx); d != 0 || err != nil {
			t.Errorf("below AccountLimit: took %v, %v; want no delay", d, err)
		}
		lim.Fail(ctx, "alice", from("192.0.2.2"))
		if d, err := check(ctx); d != 3*time.Second || err != nil {
			t.Errorf("at AccountLimit: took %v, %v; want the 3s delay", d, err)
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if d, err := check(cctx); d != time.Second || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ending context: took %v, %v; want 1s and DeadlineExceeded", d, err)
		}
	})
}

func TestClientNetworks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name       string
		fail, then string
		same       bool
	}{
		{"another IPv4 address is another network", "192.0.2.1", "192.0.2.2", false},
		{"IPv6 addresses in one /64 are one network", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
		{"the next /64 is another network", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"an IPv4-mapped address is its IPv4 address", "::ffff:192.0.2.1", "192.0.2.1", true},
		{"an IPv4 address is not the IPv6 /64 it maps into", "192.0.2.1", "::ffff:192.0.2.2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim := guard.New(guard.Config{Limit: 1})
			lim.Fail(ctx, "alice", from(tt.fail))
			wait, _ := lim.Check(ctx, "alice", from(tt.then))
			if got := wait > 0; got != tt.same {
				t.Errorf("after a failure from %s, %s refused: %v, want %v", tt.fail, tt.then, got, tt.same)
			}
		})
	}
	t.Run("behind a trusted proxy, the forwarded client counts", func(t *testing.T) {
		t.Parallel()
		m, err := keycard.New(keycard.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		if err != nil {
			t.Fatal(err)
		}
		lim := guard.New(guard.Config{Limit: 1, Manager: m})
		via := func(client string) *http.Request {
			r := from("10.0.0.1")
			r.Header.Set("X-Forwarded-For", client)
			return r
		}
		lim.Fail(ctx, "alice", via("198.51.100.1"))
		if wait, _ := lim.Check(ctx, "alice", via("198.51.100.2")); wait != 0 {
			t.Errorf("another client behind the proxy must wait %v", wait)
		}
		if wait, _ := lim.Check(ctx, "alice", via("198.51.100.1")); wait == 0 {
			t.Error("the failing client behind the proxy is not refused")
		}
		// An untrusted peer's X-Forwarded-For is not believed.
		r := from("203.0.113.5")
		lim.Fail(ctx, "alice", r)
		r.Header.Set("X-Forwarded-For", "192.0.2.77")
		if wait, _ := lim.Check(ctx, "alice", r); wait == 0 {
			t.Error("a spoofed X-Forwarded-For escaped the limit")
		}
	})
}

// I-3: the counts' store keys are keyed hashes under a key derived from
// the Manager's Keys: no account name or address in the store or the
// events, no bare SHA-256 of one (a dictionary would reverse it), the same
// keys for instances that share Keys, and others for other Keys.
func TestCountKeysAreKeyed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key, other := keycard.NewKey(), keycard.NewKey()
	run := func(k keycard.Key) (map[string]bool, []event.Event) {
		var evs events
		st := newRecordingStore()
		lim := guard.New(guard.Config{Limit: 1, NetworkLimit: 1, AccountLimit: 1, Delay: time.Nanosecond, Store: st, Manager: newManager(t, &evs, k)})
		lim.Fail(ctx, "alice@example.com", from("192.0.2.1"))
		return st.keys, evs.all()
	}
	keys, evs := run(key)
	again, _ := run(key)
	rotated, _ := run(other)
	if len(keys) != 3 {
		t.Fatalf("got store keys %v, want 3 (client, network, account)", keys)
	}
	for k := range keys {
		if !again[k] {
			t.Errorf("instances sharing Keys do not share the count %s", k)
		}
		if rotated[k] {
			t.Errorf("the count %s does not depend on the Manager's Keys", k)
		}
		hexPart, ok := strings.CutPrefix(k, "guard:")
		if _, err := hex.DecodeString(hexPart); !ok || err != nil || len(hexPart) != 64 {
			t.Errorf("store key %q, want guard: and 64 hex digits", k)
		}
	}
	if len(evs) != 3 {
		t.Fatalf("got %d events, want 3", len(evs))
	}
	// What an unkeyed scheme would write, for the names an attacker
	// would try first.
	var guesses []string
	for _, name := range []string{"alice@example.com", "user:alice@example.com", "ip:192.0.2.1", "192.0.2.1/32"} {
		for _, pre := range []string{"", "keycard guard v1\x00", "keycard guard v2\x00"} {
			sum := sha256.Sum256([]byte(pre + name))
			guesses = append(guesses, hex.EncodeToString(sum[:]))
		}
	}
	for _, ev := range evs {
		text := fmt.Sprintf("%+v", ev)
		if strings.Contains(text, "alice") {
			t.Errorf("an event names the account: %s", text)
		}
		for _, g := range guesses {
			if strings.Contains(text, g[:16]) {
				t.Errorf("an event carries an unkeyed hash: %s", text)
			}
		}
	}
	for k := range keys {
		for _, g := range guesses {
			if strings.Contains(k, g) {
				t.Errorf("store key %s is an unkeyed hash", k)
			}
		}
	}
}

func TestConcurrentFailuresAreAllCounted(t *testing.T) {
	t.Parallel()
	lim := guard.New(guard.Config{Limit: 50, NetworkLimit: 100})
	ctx := context.Background()
	r := from("192.0.2.1")
	var wg sync.WaitGroup
	for range 49 {
		wg.Go(func() { lim.Fail(ctx, "alice", r) })
	}
	wg.Wait()
	if wait, _ := lim.Check(ctx, "alice", r); wait != 0 {
		t.Fatalf("49 of 50 failures already refuse the client")
	}
	if wait, _ := lim.Fail(ctx, "alice", r); wait == 0 {
		t.Error("the 50th concurrent failure did not refuse the client: some were lost")
	}
}

// failingStore fails every call.
type failingStore struct{ store.Store }

var errDown = errors.New("store down")

func (failingStore) Load(context.Context, string) (*store.Record, error) { return nil, errDown }
func (failingStore) Save(context.Context, string, *store.Record) error   { return errDown }
func (failingStore) Delete(context.Context, string) error                { return errDown }

func TestStoreFailureIsAnError(t *testing.T) {
	t.Parallel()
	lim := guard.New(guard.Config{Store: failingStore{}})
	ctx := context.Background()
	r := from("192.0.2.1")
	if _, err := lim.Check(ctx, "alice", r); !errors.Is(err, errDown) {
		t.Errorf("Check: %v, want the store's error", err)
	}
	if _, err := lim.Fail(ctx, "alice", r); !errors.Is(err, errDown) {
		t.Errorf("Fail: %v, want the store's error", err)
	}
	if err := lim.Succeed(ctx, "alice", r); !errors.Is(err, errDown) {
		t.Errorf("Succeed: %v, want the store's error", err)
	}
}

func TestNewPanicsOnNegativeValues(t *testing.T) {
	t.Parallel()
	for _, cfg := range []guard.Config{{Limit: -1}, {NetworkLimit: -1}, {AccountLimit: -1}, {Delay: -1}, {Window: -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", cfg)
				}
			}()
			guard.New(cfg)
		}()
	}
}
