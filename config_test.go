package keycard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

func TestNewRejectsUnsafeOrContradictoryConfig(t *testing.T) {
	t.Parallel()
	cases := map[string]Config{
		"__Host- with a Domain":          {Cookie: Cookie{Domain: "example.com"}},
		"__Host- with a narrower Path":   {Cookie: Cookie{Path: "/app"}},
		"__Host- over plain HTTP":        {InsecureAllowHTTP: true},
		"__Secure- over plain HTTP":      {InsecureAllowHTTP: true, Cookie: Cookie{Name: "__Secure-s"}},
		"SameSite None without Secure":   {InsecureAllowHTTP: true, Cookie: Cookie{Name: "s", SameSite: http.SameSiteNoneMode}},
		"Partitioned without None":       {Cookie: Cookie{Partitioned: true}},
		"idle longer than absolute":      {Timeouts: Timeouts{Idle: 2 * time.Hour, Absolute: time.Hour}},
		"negative timeout":               {Timeouts: Timeouts{Idle: -time.Minute}},
		"remember-me past 400 days":      {RememberMe: Timeouts{Idle: time.Hour, Absolute: 500 * 24 * time.Hour}},
		"a short key":                    {Keys: []Key{make(Key, 16)}},
		"an all-zero key":                {Keys: []Key{make(Key, 32)}},
		"the same key twice":             {Keys: []Key{testKey(1), testKey(1)}},
		"a cookie name with a semicolon": {Cookie: Cookie{Name: "a;b"}},
	}
	for name, cfg := range cases {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}

func TestZeroConfigDefaults(t *testing.T) {
	t.Parallel()
	m, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if m.cfg.Cookie.Name != "__Host-keycard" || m.cfg.Cookie.SameSite != http.SameSiteLaxMode || m.cfg.Cookie.Path != "/" {
		t.Errorf("cookie defaults: %+v", m.cfg.Cookie)
	}
	if m.cfg.Timeouts != (Timeouts{30 * time.Minute, 8 * time.Hour}) || m.cfg.RememberMe != (Timeouts{7 * 24 * time.Hour, 30 * 24 * time.Hour}) {
		t.Errorf("timeouts: %v %v", m.cfg.Timeouts, m.cfg.RememberMe)
	}
	if m.cfg.MaxSize != 64<<10 || m.cfg.Store == nil {
		t.Errorf("maxSize %d store %v", m.cfg.MaxSize, m.cfg.Store)
	}
}

func TestInsecureAllowHTTPDetectsTLSBehindTrustedProxies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{
		InsecureAllowHTTP: true,
		Cookie:            Cookie{Name: "sid"},
		TrustedProxies:    []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	cases := []struct {
		name, remote, proto string
		tls, secure         bool
	}{
		{"plain HTTP from a client", "192.0.2.1:1234", "", false, false},
		{"TLS from a client", "192.0.2.1:1234", "", true, true},
		{"https via a trusted proxy", "10.1.2.3:1234", "https", false, true},
		{"a client claiming https", "192.0.2.1:1234", "https", false, false},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/put?k=a&v=1", nil)
		r.RemoteAddr = tc.remote
		if tc.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		c := sessionCookie(w.Result(), "sid")
		if c == nil {
			t.Fatalf("%s: no cookie", tc.name)
		}
		if c.Secure != tc.secure {
			t.Errorf("%s: got Secure=%v, want %v", tc.name, c.Secure, tc.secure)
		}
	}
}

func TestClientIPBelievesOnlyTrustedProxies(t *testing.T) {
	t.Parallel()
	m, _ := New(Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	cases := []struct{ remote, xff, want string }{
		{"192.0.2.1:1", "", "192.0.2.1"},
		{"192.0.2.1:1", "203.0.113.9", "192.0.2.1"},
		{"10.0.0.1:1", "203.0.113.9", "203.0.113.9"},
		{"10.0.0.1:1", "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"},
		{"10.0.0.1:1", "garbage", "10.0.0.1"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := m.ClientIP(r).String(); got != tc.want {
			t.Errorf("remote %s, XFF %q: got %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// stallStore never answers until its context ends.
type stallStore struct{ plainStore }

func (stallStore) Load(ctx context.Context, key string) (*store.Record, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// It runs in a synctest bubble: the clock moves only when the request is
// blocked, so the request takes the StoreTimeout on the fake clock, plus
// at most the sixteenth of it by which calls share deadlines, however slow
// the machine. Without the bound, the request would never end and
// synctest would report the deadlock.
func TestStoreTimeoutBoundsAStalledStore(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const timeout = 50 * time.Millisecond
		f := newFixture(t, Config{Store: stallStore{plainStore{newCountingStore()}}, StoreTimeout: timeout})
		c := f.client()
		c.cookie = f.m.ids.sign(&sessionID{1})
		start := time.Now()
		w := c.do("GET", "/user")
		if took := time.Since(start); w.Code != http.StatusServiceUnavailable || took < timeout || took > timeout+timeout/16 {
			t.Errorf("a stalled store: got %d after %v, want 503 after the %v StoreTimeout (+ at most a sixteenth)", w.Code, took, timeout)
		}
	})
}

// It runs in a synctest bubble, so that the limit's one-minute window
// cannot end during the test however slow the machine.
func TestRefusedTokensAreRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testRefusedTokensAreRateLimitedPerAddress)
}

func testRefusedTokensAreRateLimitedPerAddress(t *testing.T) {
	f := newFixture(t, Config{MaxRejectsPerMinute: 20})
	forged := func(addr, xff string, cookie bool) int {
		r := httptest.NewRequest("GET", "/get?k=a", nil)
		r.RemoteAddr = addr + ":1"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		if cookie {
			r.Header.Set("Cookie", "__Host-keycard="+strings.Repeat("A", tokenEncodedSz))
		}
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		return w.Code
	}
	limited := 0
	for i := range 100 {
		// A client spoofing X-Forwarded-For from an untrusted address
		// is still counted as itself.
		if forged("192.0.2.9", fmt.Sprintf("10.0.0.%d", i), true) == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 80 {
		t.Errorf("got %d of 100 forged-cookie requests limited, want 80 (all past the first 20)", limited)
	}
	if code := forged("192.0.2.9", "", false); code != http.StatusOK {
		t.Errorf("a request without a token from a limited address: got %d, want 200", code)
	}
	if code := forged("192.0.2.10", "", true); code != http.StatusOK {
		t.Errorf("another address: got %d, want 200", code)
	}
	if !f.events.has(event.Rejected, event.ReasonRateLimited) {
		t.Error("no rate-limited event")
	}
}

// It runs in a synctest bubble: the warnings' budget refills with time,
// and the fake clock stands still while the requests are served, so the
// count does not depend on the machine's speed.
func TestWarningsAreNotAFloodOfLogLines(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testWarningsAreNotAFloodOfLogLines)
}

func testWarningsAreNotAFloodOfLogLines(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	f := newFixture(t, Config{Logger: logger})
	for range 1000 {
		(&client{f: f, cookie: strings.Repeat("B", tokenEncodedSz)}).get("/get?k=a")
	}
	mu.Lock()
	defer mu.Unlock()
	lines := strings.Count(buf.String(), "\n")
	if lines > warnBurst+20 {
		t.Errorf("1000 forged cookies gave %d log lines, want about %d", lines, warnBurst)
	}
	if lines < warnBurst {
		t.Errorf("only %d log lines; the first %d warnings must be logged", lines, warnBurst)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestStoreCallsShareDeadlines: calls started within a sixteenth of the
// timeout share one deadline, which is at least the timeout after each;
// a later call gets a new one.
func TestStoreCallsShareDeadlines(t *testing.T) {
	d := &deadlines{timeout: time.Hour}
	width := d.timeout / 16
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	first, same, next := d.at(t0), d.at(t0.Add(width-1)), d.at(t0.Add(width))
	for _, tk := range []*tick{first, same, next} {
		t.Cleanup(tk.stop)
	}
	if same != first {
		t.Error("a call within the tick got a deadline of its own")
	}
	if late := t0.Add(width - 1 + d.timeout); first.deadline.Before(late) {
		t.Errorf("the shared deadline %v comes before the timeout after the tick's last call (%v)", first.deadline, late)
	}
	if next == first || !next.deadline.After(first.deadline) {
		t.Errorf("a call past the tick got deadline %v, want a later one than %v", next.deadline, first.deadline)
	}
}

// TestStoreCallDeadlines: in a synctest bubble, a call's context is done
// at its deadline and says so; a request context whose own deadline
// comes first is used as it is; a canceled one makes no call. Two bubbles
// can share a bounded store (each bubble's calls get ticks of their own).
func TestStoreCallDeadlines(t *testing.T) {
	const timeout = 160 * time.Millisecond
	st := timed(plainStore{newCountingStore()}, timeout).(timedStore)
	for range 2 {
		synctest.Test(t, func(t *testing.T) {
			bound, err := st.bound(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if dl, ok := bound.Deadline(); !ok || dl.Before(time.Now().Add(timeout)) {
				t.Errorf("a call's deadline is %v (%v), want at least the timeout from now", dl, ok)
			}
			if bound.Err() != nil {
				t.Errorf("before its deadline a call's context reports %v", bound.Err())
			}
			short, cancel := context.WithTimeout(context.Background(), timeout/2)
			defer cancel()
			if b, _ := st.bound(short); b != short {
				t.Error("a context with an earlier deadline of its own was not used as it is")
			}
			canceled, cancelNow := context.WithCancel(context.Background())
			cancelNow()
			if err := st.Save(canceled, "k", &store.Record{}); !errors.Is(err, context.Canceled) {
				t.Errorf("a call with a canceled context: got %v, want context.Canceled", err)
			}
			<-bound.Done()
			if !errors.Is(bound.Err(), context.DeadlineExceeded) {
				t.Errorf("past its deadline a call's context reports %v, want context.DeadlineExceeded", bound.Err())
			}
		})
	}
}
