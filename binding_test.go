package keycard

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/keycard-go/keycard/event"
)

// from serves one request from a given address and user agent.
func (c *client) from(addr, ua, target string) string {
	r := httptest.NewRequest("GET", target, nil)
	r.RemoteAddr, r.Header["User-Agent"] = addr+":1234", []string{ua}
	if c.cookie != "" {
		r.Header.Set("Cookie", c.f.m.cfg.Cookie.Name+"="+c.cookie)
	}
	w := httptest.NewRecorder()
	c.f.h.ServeHTTP(w, r)
	if sc := sessionCookie(w.Result(), c.f.m.cfg.Cookie.Name); sc != nil {
		c.cookie = sc.Value
		if sc.MaxAge < 0 {
			c.cookie = ""
		}
	}
	return w.Body.String()
}

func TestClientBinding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		policy   BindingPolicy
		addr, ua string
		want     string // user seen on the mismatching request
		after    string // user seen afterwards from the original client
	}{
		{"same /24 and agent pass", BindDestroy, "198.51.100.77", "agent/1", "alice", "alice"},
		{"another address is logged only", BindLog, "203.0.113.5", "agent/1", "alice", "alice"},
		{"another address must log in again", BindReauth, "203.0.113.5", "agent/1", "", ""},
		{"another agent destroys the session", BindDestroy, "198.51.100.7", "curl/8", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{Binding: Binding{IPv4Prefix: 24, IPv6Prefix: 64, UserAgent: true, OnMismatch: tc.policy}})
			c := f.client()
			c.from("198.51.100.7", "agent/1", "/login?u=alice")
			thief := &client{f: f, cookie: c.cookie}
			if got := thief.from(tc.addr, tc.ua, "/user"); got != tc.want {
				t.Errorf("mismatching request: got user %q, want %q", got, tc.want)
			}
			if got := c.from("198.51.100.7", "agent/1", "/user"); got != tc.after {
				t.Errorf("original client afterwards: got user %q, want %q", got, tc.after)
			}
			if mismatch := tc.want != "alice" || tc.policy == BindLog; mismatch != f.events.has(event.BindingMismatch, "") {
				t.Errorf("binding-mismatch event: got %v, want %v", !mismatch, mismatch)
			}
		})
	}
}

func TestSessionLimitPerUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{MaxSessionsPerUser: 3})
	var devices []*client
	for range 4 {
		c := f.client()
		c.get("/login?u=alice")
		devices = append(devices, c)
	}
	if got := devices[0].get("/user"); got != "" {
		t.Errorf("the oldest session survived a fourth login: %q", got)
	}
	for _, c := range devices[1:] {
		if got := c.get("/user"); got != "alice" {
			t.Errorf("a recent session was revoked: %q", got)
		}
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { f.client().get("/login?u=alice") })
	}
	wg.Wait()
	infos, err := f.m.Sessions(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) > 3 {
		t.Errorf("after 20 parallel logins alice has %d sessions, want at most 3", len(infos))
	}
	if !f.events.has(event.Destroyed, event.ReasonLimit) {
		t.Error("no session-limit event")
	}
	if _, err := New(Config{MaxSessionsPerUser: 2, Store: plainStore{newCountingStore()}}); err == nil {
		t.Error("a session cap over a store without a user index was accepted")
	}
}
