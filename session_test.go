package keycard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

func TestDefaultCookieIsSecure(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	res := f.client().do("GET", "/put?k=a&v=1").Result()
	c := sessionCookie(res, "__Host-keycard")
	if c == nil {
		t.Fatal("no __Host-keycard cookie set")
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("got cookie %q, want HttpOnly, Secure, SameSite=Lax, Path=/, no Domain", res.Header.Get("Set-Cookie"))
	}
	if c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("got Max-Age %d Expires %v, want a browser-session cookie", c.MaxAge, c.Expires)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("got Cache-Control %q, want no-store", got)
	}
	if got := res.Header.Get("Vary"); got != "Cookie" {
		t.Errorf("got Vary %q, want Cookie", got)
	}
	if len(c.Value) != tokenEncodedSz {
		t.Errorf("got cookie value of %d chars, want %d", len(c.Value), tokenEncodedSz)
	}
}

func TestUntouchedSessionCostsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/put?k=a&v=1")
	f.st.reset()
	w := c.do("GET", "/noop")
	if n := f.st.calls(); n != 0 {
		t.Errorf("got %d store calls for a handler that never used the session, want 0", n)
	}
	if w.Header().Get("Set-Cookie") != "" {
		t.Errorf("got Set-Cookie %q, want none", w.Header().Get("Set-Cookie"))
	}
}

func TestNewSessionThatOnlyReadsWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	w := f.client().do("GET", "/get?k=a")
	if n := f.st.calls(); n != 0 {
		t.Errorf("got %d store calls, want 0", n)
	}
	if w.Header().Get("Set-Cookie") != "" {
		t.Errorf("got Set-Cookie %q, want none (save-uninitialized is off)", w.Header().Get("Set-Cookie"))
	}
}

func TestSaveUninitializedStoresEmptySessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{SaveUninitialized: true})
	c := f.client()
	c.get("/noop")
	if c.cookie == "" || !f.stored(c.cookie) {
		t.Fatal("an untouched new session was not stored with SaveUninitialized")
	}
}

func TestReadPathIsOneLoadAndNoWrite(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/put?k=a&v=hello")
	f.st.reset()
	w := c.do("GET", "/get?k=a")
	if got := w.Body.String(); got != "hello" {
		t.Fatalf("got %q, want hello", got)
	}
	if l, wr := f.st.loads.Load(), f.st.writes(); l != 1 || wr != 0 {
		t.Errorf("got %d loads and %d writes, want 1 and 0", l, wr)
	}
	if w.Header().Get("Set-Cookie") != "" {
		t.Errorf("a read re-sent the cookie: %q", w.Header().Get("Set-Cookie"))
	}
}

func TestValuesRoundTripTheirGoTypes(t *testing.T) {
	t.Parallel()
	type item struct {
		SKU string
		Qty int
		At  time.Time
	}
	now := time.Date(2026, 11, 21, 12, 30, 45, 123456789, time.UTC)
	cart := []item{{"a", 2, now}, {"b", 1, now.Add(time.Hour)}}
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/types/put", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		for k, v := range map[string]any{"int": 42, "int64": int64(-1 << 40), "uint8": uint8(7), "float": 2.5,
			"bytes": []byte{0, 1, 2}, "time": now, "cart": cart, "map": map[string]int{"x": 1}, "bool": true} {
			if err := s.Put(k, v); err != nil {
				t.Error(err)
			}
		}
	})
	f.mux.HandleFunc("/types/get", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		check := func(name string, got, want any, ok bool) {
			if !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %#v (%v), want %#v", name, got, ok, want)
			}
		}
		i, ok := Get[int](s, "int")
		check("int", i, 42, ok)
		i64, ok := Get[int64](s, "int64")
		check("int64", i64, int64(-1<<40), ok)
		u8, ok := Get[uint8](s, "uint8")
		check("uint8", u8, uint8(7), ok)
		fl, ok := Get[float64](s, "float")
		check("float", fl, 2.5, ok)
		b, ok := Get[[]byte](s, "bytes")
		check("bytes", b, []byte{0, 1, 2}, ok)
		tm, ok := Get[time.Time](s, "time")
		check("time", tm.Equal(now), true, ok)
		c, ok := Get[[]item](s, "cart")
		check("cart", len(c) == 2 && c[0].SKU == "a" && c[1].Qty == 1 && c[1].At.Equal(now.Add(time.Hour)), true, ok)
		mp, ok := Get[map[string]int](s, "map")
		check("map", mp, map[string]int{"x": 1}, ok)
		bo, ok := Get[bool](s, "bool")
		check("bool", bo, true, ok)
		anyv, ok := Get[any](s, "int")
		check("any", anyv, int64(42), ok)
	})
	c := f.client()
	c.get("/types/put")
	c.get("/types/get")
}

func TestDataAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/api1", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Put("b", 2)
		s.Put("a", 1)
		s.Put("c", 3)
		s.Flash("saved")
		s.Flash("twice")
	})
	f.mux.HandleFunc("/api2", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if got := s.Keys(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
			t.Errorf("Keys: got %v, want [a b c]", got)
		}
		if v, ok := Get[int](s, "a"); !ok || v != 1 {
			t.Errorf("Get: got %v %v, want 1 true", v, ok)
		}
		s.Delete("a")
		s.Delete("b")
		_, hasA := Get[int](s, "a")
		_, hasB := Get[int](s, "b")
		if _, hasC := Get[int](s, "c"); hasA || hasB || !hasC {
			t.Error("Get: a and b should be gone, c present")
		}
		if got := s.Flashes(); !reflect.DeepEqual(got, []string{"saved", "twice"}) {
			t.Errorf("Flashes: got %v", got)
		}
	})
	f.mux.HandleFunc("/api3", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if got := s.Keys(); !reflect.DeepEqual(got, []string{"c"}) {
			t.Errorf("after Delete, Keys: got %v, want [c]", got)
		}
		if got := s.Flashes(); len(got) != 0 {
			t.Errorf("flashes shown twice: %v", got)
		}
		s.Clear()
	})
	f.mux.HandleFunc("/api4", func(w http.ResponseWriter, r *http.Request) {
		if got := FromContext(r.Context()).Keys(); len(got) != 0 {
			t.Errorf("after Clear, Keys: got %v", got)
		}
	})
	c := f.client()
	for _, p := range []string{"/api1", "/api2", "/api3", "/api4"} {
		c.get(p)
	}
}

func TestPutRefusesWhatCannotBeKept(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{MaxSize: 1024})
	f.mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if err := s.Put("small", "x"); err != nil {
			t.Fatal(err)
		}
		if err := s.Put("big", strings.Repeat("x", 2000)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("got %v, want ErrTooLarge", err)
		}
		if err := s.Put("fn", func() {}); err == nil {
			t.Error("a func value was accepted")
		}
		if err := s.Put("ch", make(chan int)); err == nil {
			t.Error("a channel value was accepted")
		}
		if got := s.Keys(); !reflect.DeepEqual(got, []string{"small"}) {
			t.Errorf("refused puts changed the session: keys %v", got)
		}
	})
	f.client().get("/big")
}

func TestUndecodableValueReadsAsAbsentAndStays(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/wrongtype", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if v, ok := Get[int](s, "a"); ok {
			t.Errorf("a string decoded as int %d", v)
		}
		if v, ok := Get[string](s, "a"); !ok || v != "text" {
			t.Errorf("the value was lost: got %q %v", v, ok)
		}
	})
	c := f.client()
	c.get("/put?k=a&v=text")
	c.get("/wrongtype")
	if !f.events.has(event.Rejected, event.ReasonUndecodable) {
		t.Error("no undecodable event")
	}
}

func TestForgedAndMalformedCookiesNeverReachTheStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/put?k=a&v=1")
	good := c.cookie
	var forged []string
	for i := range good {
		b := []byte(good)
		b[i] = "AB"[b[i]%2] // change one character
		if string(b) != good {
			forged = append(forged, string(b))
		}
	}
	forged = append(forged, good[:len(good)-1], good+"A", "", "x", strings.Repeat("A", 5000), "' OR 1=1 --", good+"\x00")
	other := newFixture(t, Config{Keys: []Key{testKey(9)}})
	oc := other.client()
	oc.get("/put?k=a&v=1")
	forged = append(forged, oc.cookie) // authentic under another key
	for _, v := range forged {
		f.st.reset()
		att := &client{f: f, cookie: v}
		w := att.do("GET", "/get?k=a")
		if n := f.st.calls(); n != 0 {
			t.Errorf("cookie %.20q...: %d store calls, want 0", v, n)
		}
		if w.Body.String() != "" {
			t.Errorf("cookie %.20q...: read %q from a forged session", v, w.Body.String())
		}
	}
	if !f.events.has(event.Rejected, event.ReasonBadMAC) || !f.events.has(event.Rejected, event.ReasonMalformed) {
		t.Error("missing bad-mac or malformed events")
	}
}

func TestDuplicateSessionCookiesAreRejectedWhateverTheOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	victim, attacker := f.client(), f.client()
	victim.get("/put?k=who&v=victim")
	attacker.get("/put?k=who&v=attacker")
	for _, order := range [][2]string{{victim.cookie, attacker.cookie}, {attacker.cookie, victim.cookie}} {
		r := httptest.NewRequest("GET", "/get?k=who", nil)
		r.Header.Set("Cookie", "__Host-keycard="+order[0]+"; __Host-keycard="+order[1])
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		if got := w.Body.String(); got != "" {
			t.Errorf("got session %q from duplicate cookies, want none", got)
		}
	}
	// A case variant of the name is a different cookie.
	r := httptest.NewRequest("GET", "/get?k=who", nil)
	r.Header.Set("Cookie", "__host-keycard="+victim.cookie)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if got := w.Body.String(); got != "" {
		t.Errorf("a case-variant cookie name was accepted: %q", got)
	}
	if !f.events.has(event.Rejected, event.ReasonDuplicate) {
		t.Error("no duplicate-cookie event")
	}
}

func TestKeyRotationKeepsSessionsAlive(t *testing.T) {
	t.Parallel()
	st := newCountingStore()
	mk := func(keys ...Key) *fixture { return newFixture(t, Config{Store: st, Keys: keys}) }
	old := mk(testKey(1))
	c := old.client()
	c.get("/put?k=a&v=kept")
	rotated := mk(testKey(2), testKey(1))
	rc := &client{f: rotated, cookie: c.cookie}
	if got := rc.get("/get?k=a"); got != "kept" {
		t.Fatalf("after adding a new key: got %q, want kept", got)
	}
	rc.get("/put?k=b&v=new")
	if rc.cookie != c.cookie {
		t.Error("an existing session's cookie was re-signed on an ordinary write")
	}
	fresh := rotated.client()
	fresh.get("/put?k=a&v=1")
	if _, reason := old.m.ids.verify(fresh.cookie); reason != event.ReasonBadMAC {
		t.Errorf("new cookies are not signed with the new key (old ring says %q)", reason)
	}
	retired := mk(testKey(2))
	if got := (&client{f: retired, cookie: c.cookie}).get("/get?k=a"); got != "" {
		t.Errorf("a cookie signed by a removed key still works: %q", got)
	}
}

func TestFixation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	t.Run("an authentic but unknown ID is never adopted", func(t *testing.T) {
		var id sessionID
		id[0] = 42
		planted := f.m.ids.sign(&id)
		c := &client{f: f, cookie: planted}
		c.get("/put?k=a&v=1")
		if c.cookie == planted || c.cookie == "" {
			t.Fatalf("the planted ID was adopted (cookie %q)", c.cookie)
		}
		if _, err := f.st.Store.Load(context.Background(), id.hash()); err == nil {
			t.Error("the store holds a record under the planted ID")
		}
		if !f.events.has(event.Rejected, event.ReasonUnknown) {
			t.Error("no unknown-id event")
		}
	})
	t.Run("login moves a planted anonymous session to a new ID", func(t *testing.T) {
		attacker := f.client()
		attacker.get("/put?k=cart&v=1")
		victim := &client{f: f, cookie: attacker.cookie}
		victim.get("/login?u=alice")
		if victim.cookie == attacker.cookie {
			t.Fatal("login kept the pre-login ID")
		}
		if got := attacker.get("/user"); got != "" {
			t.Errorf("the attacker's pre-login cookie reads user %q", got)
		}
		if got := victim.get("/user"); got != "alice" {
			t.Errorf("victim: got user %q, want alice", got)
		}
	})
}

func TestRenewKeepsDataAndKillsTheOldID(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.Renew(r.Context(), FromContext(r.Context())); err != nil {
			t.Error(err)
		}
	})
	f.mux.HandleFunc("/meta", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		fmt.Fprint(w, s.Info().Created.UnixNano(), " ", s.Info().Deadline.UnixNano())
	})
	c := f.client()
	c.get("/put?k=a&v=kept")
	before, oldCookie := c.get("/meta"), c.cookie
	c.get("/renew")
	if c.cookie == oldCookie {
		t.Fatal("Renew did not change the cookie")
	}
	if got := c.get("/get?k=a"); got != "kept" {
		t.Errorf("after Renew: got %q, want kept", got)
	}
	if after := c.get("/meta"); after != before {
		t.Errorf("Renew changed created/deadline: %s, was %s", after, before)
	}
	if rec, err := f.st.Store.Load(context.Background(), f.hashOf(oldCookie)); err == nil {
		_, holds := decodeValues(rec.Data)["a"]
		if !IsTombstone(rec) || holds {
			t.Error("the old record still holds the session")
		}
	}
	if got := (&client{f: f, cookie: oldCookie}).get("/get?k=a"); got != "" {
		t.Errorf("the old cookie still reads %q", got)
	}
}

func TestLoginBindsUserAndClearsAnotherUsersData(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/put?k=cart&v=3-items")
	c.get("/login?u=alice")
	if got := c.get("/get?k=cart"); got != "3-items" {
		t.Errorf("login lost the anonymous cart: %q", got)
	}
	f.mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if info := s.Info(); info.AuthTime.IsZero() || info.AuthTime.Before(info.Created) {
			t.Errorf("auth time %v not recorded (created %v)", info.AuthTime, info.Created)
		}
	})
	c.get("/auth")
	c.get("/login?u=bob")
	if got := c.get("/get?k=cart"); got != "" {
		t.Errorf("bob sees alice's data: %q", got)
	}
	if got := c.get("/user"); got != "bob" {
		t.Errorf("got user %q, want bob", got)
	}
}

func TestLogoutKillsTheRecord(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/login?u=alice")
	captured := c.cookie
	w := c.do("GET", "/logout")
	sc := sessionCookie(w.Result(), "__Host-keycard")
	if sc == nil || sc.MaxAge >= 0 || sc.Value != "" || !sc.Secure || sc.Path != "/" {
		t.Errorf("logout cookie: got %q, want an expired, Secure, Path=/ cookie", w.Header().Get("Set-Cookie"))
	}
	if f.stored(captured) {
		t.Error("the record survived logout")
	}
	replay := &client{f: f, cookie: captured}
	if got := replay.get("/user"); got != "" {
		t.Errorf("a cookie replayed after logout reads user %q", got)
	}
}

func TestLogoutThenFlashStartsAFreshSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/bye", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if err := f.m.Logout(r.Context(), s); err != nil {
			t.Fatal(err)
		}
		if s.UserID() != "" {
			t.Errorf("user %q survived logout in the same request", s.UserID())
		}
		s.Flash("goodbye")
	})
	f.mux.HandleFunc("/flashes", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, FromContext(r.Context()).Flashes())
	})
	c := f.client()
	c.get("/login?u=alice")
	old := c.cookie
	c.get("/bye")
	if c.cookie == "" || c.cookie == old {
		t.Fatalf("got cookie %q after logout+flash, want a fresh session", c.cookie)
	}
	if got := c.get("/flashes"); got != "[goodbye]" {
		t.Errorf("got %q, want [goodbye]", got)
	}
	if got := c.get("/user"); got != "" {
		t.Errorf("fresh session has user %q", got)
	}
}

func TestRememberMeSetsAPersistentCookie(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/remember", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		f.m.Login(r.Context(), s, "alice")
		if err := f.m.RememberMe(s, true); err != nil {
			t.Error(err)
		}
	})
	w := f.client().do("GET", "/remember")
	sc := sessionCookie(w.Result(), "__Host-keycard")
	if sc == nil {
		t.Fatal("no cookie")
	}
	want := int(defaultRememberMax / time.Second)
	if sc.MaxAge < want-5 || sc.MaxAge > want {
		t.Errorf("got Max-Age %d, want about %d (30 days)", sc.MaxAge, want)
	}
}

func TestStoreFailureIsA503NotAnAnonymousSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/login?u=alice")
	f.st.fail.Store(true)
	w := c.do("GET", "/user")
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("got status %d, want 503", w.Code)
	}
	if strings.Contains(w.Body.String(), "alice") || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("failed request leaked a response: body %q, Set-Cookie %q", w.Body.String(), w.Header().Get("Set-Cookie"))
	}
	f.st.fail.Store(false)
	if got := c.get("/user"); got != "alice" {
		t.Errorf("after recovery: got %q, want alice", got)
	}
	f.st.fail.Store(true)
	if w := f.client().do("GET", "/put?k=a&v=1"); w.Code != http.StatusServiceUnavailable {
		t.Errorf("new session on a failing store: got %d, want 503", w.Code)
	}
}

func TestUndecodableRecordIsReplacedNotA500(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/put?k=a&v=1")
	key := f.hashOf(c.cookie)
	ctx := context.Background()
	rec, err := f.st.Store.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	rec.Data = []byte{0xff, 0x00, 0x01}
	if err := f.st.Store.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	w := c.do("GET", "/get?k=a")
	if w.Code != http.StatusOK {
		t.Fatalf("got status %d, want 200", w.Code)
	}
	if sc := sessionCookie(w.Result(), "__Host-keycard"); sc == nil || sc.MaxAge >= 0 {
		t.Errorf("the dead cookie was not expired: %q", w.Header().Get("Set-Cookie"))
	}
	if _, err := f.st.Store.Load(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the undecodable record was not deleted: %v", err)
	}
	if !f.events.has(event.Rejected, event.ReasonUndecodable) {
		t.Error("no undecodable event")
	}
}

func TestConcurrentRequestsLoseNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		if _, err := Update(r.Context(), FromContext(r.Context()), "n", func(n int) int { return n + 1 }); err != nil {
			t.Error(err)
		}
	})
	f.mux.HandleFunc("/all", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		n, _ := Get[int](s, "n")
		fmt.Fprint(w, len(s.Keys())-1, " ", n)
	})
	c := f.client()
	c.get("/login?u=alice")
	const N = 100
	var wg sync.WaitGroup
	for i := range N {
		wg.Add(2)
		go func() {
			defer wg.Done()
			(&client{f: f, cookie: c.cookie}).get(fmt.Sprintf("/put?k=key%03d&v=%d", i, i))
		}()
		go func() {
			defer wg.Done()
			(&client{f: f, cookie: c.cookie}).get("/count")
		}()
	}
	wg.Wait()
	if got, want := c.get("/all"), fmt.Sprint(N, " ", N); got != want {
		t.Errorf("got %q (keys, counter), want %q", got, want)
	}
	if f.events.count(event.Conflict) == 0 {
		t.Log("no conflicts happened; the test did not exercise the merge path this run")
	}
}

func TestWriteAfterConcurrentLogoutDoesNotResurrect(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/login?u=alice")
	captured := c.cookie
	release := make(chan struct{})
	loaded := make(chan struct{})
	f.mux.HandleFunc("/slowput", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.UserID() // load
		close(loaded)
		<-release
		s.Put("late", "x")
	})
	done := make(chan struct{})
	go func() {
		(&client{f: f, cookie: captured}).get("/slowput")
		close(done)
	}()
	<-loaded
	(&client{f: f, cookie: captured}).get("/logout")
	close(release)
	<-done
	if f.stored(captured) {
		t.Fatal("a write racing a logout resurrected the session")
	}
}

func TestUpdateFromSeveralManagersOverOneStore(t *testing.T) {
	t.Parallel()
	st := newCountingStore()
	a := newFixture(t, Config{Store: st})
	b := newFixture(t, Config{Store: st})
	for _, f := range []*fixture{a, b} {
		f.mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
			Update(r.Context(), FromContext(r.Context()), "n", func(n int) int { return n + 1 })
		})
	}
	c := a.client()
	c.get("/put?k=x&v=1")
	var wg sync.WaitGroup
	for i := range 60 {
		f := []*fixture{a, b}[i%2]
		wg.Go(func() { (&client{f: f, cookie: c.cookie}).get("/count") })
	}
	wg.Wait()
	a.mux.HandleFunc("/n", func(w http.ResponseWriter, r *http.Request) {
		n, _ := Get[int](FromContext(r.Context()), "n")
		fmt.Fprint(w, n)
	})
	if got := c.get("/n"); got != "60" {
		t.Errorf("got counter %s, want 60", got)
	}
}

func TestDeriveKeysFollowTheManagersKeys(t *testing.T) {
	k1, k2 := NewKey(), NewKey()
	a, _ := New(Config{Keys: []Key{k1, k2}})
	b, _ := New(Config{Keys: []Key{k1}})
	ka, kb := a.DeriveKeys("csrf"), b.DeriveKeys("csrf")
	if len(ka) != 2 || len(kb) != 1 || !bytes.Equal(ka[0], kb[0]) {
		t.Fatalf("instances sharing a newest key derive different keys (%d, %d keys)", len(ka), len(kb))
	}
	if bytes.Equal(ka[0], a.DeriveKeys("guard")[0]) || bytes.Equal(ka[0], k1) {
		t.Fatal("a derived key repeats another purpose's key or the session key")
	}
}
