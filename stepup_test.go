package keycard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// stepUpFixture serves /danger behind a StepUp of maxAge, /reauth, which
// logs the current user in again and redirects to ReturnTo, and counts
// the requests each reached.
func stepUpFixture(t *testing.T, su StepUp) (f *fixture, reached, reauths *int) {
	f = newFixture(t, Config{Timeouts: Timeouts{Idle: 8 * time.Hour, Absolute: 24 * time.Hour}})
	reached, reauths = new(int), new(int)
	su.Reauth = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*reauths++
		http.Redirect(w, r, "/reauth", http.StatusSeeOther)
	})
	f.mux.Handle("/danger", su.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { *reached++ })))
	f.mux.HandleFunc("/reauth", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if err := f.m.Login(r.Context(), s, s.UserID()); err != nil {
			t.Error(err)
		}
		w.Write([]byte(ReturnTo(s)))
	})
	return f, reached, reauths
}

func TestStepUpRequiresRecentAuthentication(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, reached, reauths := stepUpFixture(t, StepUp{MaxAge: 10 * time.Minute})
		c := f.client()
		if w := c.do("GET", "/danger?x=1"); w.Code != http.StatusSeeOther || *reauths != 1 {
			t.Fatalf("anonymous: got %d, %d reauths; want a step-up", w.Code, *reauths)
		}
		c.get("/login?u=alice")
		c.get("/danger")
		time.Sleep(11 * time.Minute)
		if w := c.do("GET", "/danger?x=2"); w.Code != http.StatusSeeOther || *reached != 1 {
			t.Fatalf("11 min after login: got %d, reached %d times; want a step-up", w.Code, *reached)
		}
		before := c.cookie
		if back := c.get("/reauth"); back != "/danger?x=2" {
			t.Errorf("ReturnTo after re-authentication: got %q, want /danger?x=2", back)
		}
		if c.cookie == before {
			t.Error("re-authentication did not renew the session")
		}
		if back := c.get("/reauth"); back != "" {
			t.Errorf("ReturnTo is not single use: got %q again", back)
		}
		c.get("/danger")
		if *reached != 2 || c.get("/user") != "alice" {
			t.Errorf("after re-authentication: reached %d times as %q; want 2 as alice", *reached, c.get("/user"))
		}
	})
}

// A form post falls short: it comes back to the page that posted it, never
// to another site's.
func TestStepUpReturnsAPostToItsSameOriginPage(t *testing.T) {
	t.Parallel()
	f, _, _ := stepUpFixture(t, StepUp{MaxAge: time.Minute, Check: func(s *Session) bool { return false }})
	c := f.client()
	c.get("/login?u=alice")
	for _, tc := range []struct{ referer, want string }{
		{"https://example.com/devices?tab=2", "/devices?tab=2"},
		{"https://evil.example/devices", ""},
		{"", ""},
	} {
		r := httptest.NewRequest("POST", "https://example.com/danger", nil)
		r.Header.Set("Cookie", "__Host-keycard="+c.cookie)
		if tc.referer != "" {
			r.Header.Set("Referer", tc.referer)
		}
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("a Check that fails: got %d, want the step-up", w.Code)
		}
		if sc := sessionCookie(w.Result(), "__Host-keycard"); sc != nil {
			c.cookie = sc.Value
		}
		if got := c.get("/reauth"); got != tc.want {
			t.Errorf("Referer %q: ReturnTo %q, want %q", tc.referer, got, tc.want)
		}
	}
}

func TestLocalPathRefusesOtherSites(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"/": true, "/a/b?c=d#e": true, "//evil.example": false, "/\\evil.example": false,
		"https://evil.example": false, "evil": false, "/a\r\nSet-Cookie: x": false, "/a\\b": false, "": false,
	} {
		if got := localPath(p) == p && p != ""; got != want {
			t.Errorf("localPath(%q) kept: %t, want %t", p, got, want)
		}
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/a?b", "//x", "/\\x", "/%2F%2Fx", "/\t/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := localPath(p)
		if got == "" {
			return
		}
		if got != p {
			t.Fatalf("localPath(%q) = %q: it must keep or refuse, never rewrite", p, got)
		}
		u, err := http.NewRequest("GET", "https://site.example"+got, nil)
		if err != nil {
			return
		}
		if u.URL.Host != "site.example" || strings.ContainsAny(got, "\r\n\\") {
			t.Fatalf("localPath kept %q, which leaves the site (host %q)", got, u.URL.Host)
		}
	})
}
