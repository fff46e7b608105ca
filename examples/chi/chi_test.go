package chikeycard_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
)

// TestPlainMiddlewareInChi drives login, read, write and logout, and
// csrf on one route group, through chi's router with no adapter.
func TestPlainMiddlewareInChi(t *testing.T) {
	t.Parallel()
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(m, csrf.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, m.Handler)
	r.Post("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), r.URL.Query().Get("user")); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		n, _ := keycard.Get[int](s, "visits")
		io.WriteString(w, s.UserID()+" "+strings.Repeat("*", n))
	})
	r.Post("/logout", func(w http.ResponseWriter, r *http.Request) {
		m.Logout(r.Context(), keycard.FromContext(r.Context()))
	})
	r.Group(func(r chi.Router) {
		r.Use(p.Handler)
		r.Get("/form", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, csrf.Token(r)) })
		r.Post("/visit", func(w http.ResponseWriter, r *http.Request) {
			keycard.Update(r.Context(), keycard.FromContext(r.Context()), "visits", func(n int) int { return n + 1 })
		})
	})
	ts := httptest.NewTLSServer(r)
	defer ts.Close()

	jar, _ := cookiejar.New(nil)
	client := *ts.Client()
	client.Jar = jar
	session := func() string {
		for _, c := range jar.Cookies(mustURL(t, ts.URL)) {
			if c.Name == keycard.DefaultCookieName {
				return c.Value
			}
		}
		return ""
	}
	do := func(method, path string, header ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	_, token := do("GET", "/form")
	if session() != "" || token == "" {
		t.Fatal("GET /form stored a session or gave no token")
	}
	if code, _ := do("POST", "/visit"); code != http.StatusForbidden {
		t.Errorf("POST /visit without a CSRF token: got %d, want 403", code)
	}
	if code, _ := do("POST", "/visit", "X-CSRF-Token", token); code != http.StatusOK {
		t.Errorf("POST /visit with the token: got %d, want 200", code)
	}
	anonymous := session()
	if anonymous == "" {
		t.Fatal("POST /visit stored no session")
	}
	do("POST", "/login?user=alice")
	if s := session(); s == "" || s == anonymous {
		t.Error("login did not give the session a new ID")
	}
	if _, body := do("GET", "/me"); body != "alice *" {
		t.Errorf("after login: got %q, want %q", body, "alice *")
	}
	do("POST", "/logout")
	if _, body := do("GET", "/me"); body != " " {
		t.Errorf("after logout: got %q, want an anonymous session", body)
	}
	if session() != "" {
		t.Error("logout left the cookie in the jar")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
