package keycard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHeaderCarrier(t *testing.T) {
	t.Parallel()
	for _, header := range []string{"X-Session-Token", "Authorization"} {
		t.Run(header, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{Header: header})
			f.mux.HandleFunc("/api/login", func(w http.ResponseWriter, r *http.Request) {
				s := FromContext(r.Context())
				if err := f.m.Login(r.Context(), s, "alice"); err != nil {
					t.Fatal(err)
				}
				tok, err := f.m.Token(s)
				if err != nil {
					t.Fatal(err)
				}
				w.Write([]byte(tok))
			})
			send := func(path, tok string) *httptest.ResponseRecorder {
				r := httptest.NewRequest("GET", path, nil)
				if tok != "" {
					if header == "Authorization" {
						tok = "Bearer " + tok
					}
					r.Header.Set(header, tok)
				}
				w := httptest.NewRecorder()
				f.h.ServeHTTP(w, r)
				return w
			}
			w := send("/api/login", "")
			tok := w.Body.String()
			if w.Header().Get("Set-Cookie") != "" {
				t.Errorf("the header carrier set a cookie: %q", w.Header().Get("Set-Cookie"))
			}
			if header != "Authorization" && w.Header().Get(header) != tok {
				t.Errorf("response header %s = %q, want the body's token", header, w.Header().Get(header))
			}
			if got := send("/user", tok).Body.String(); got != "alice" {
				t.Fatalf("with the token in %s: got user %q, want alice", header, got)
			}
			// The token is accepted only from the configured header.
			r := httptest.NewRequest("GET", "/user?sid="+tok, nil)
			r.Header.Set("Cookie", "__Host-keycard="+tok)
			w = httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			if got := w.Body.String(); got != "" {
				t.Errorf("a token in a cookie or the query was accepted: %q", got)
			}
			send("/logout", tok)
			if got := send("/user", tok).Body.String(); got != "" {
				t.Errorf("the token works after logout: %q", got)
			}
		})
	}
}

func TestOpenAndSaveOutsideARequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/login?u=alice")
	ctx := context.Background()
	s, err := f.m.Open(ctx, c.cookie)
	if err != nil {
		t.Fatal(err)
	}
	if s.UserID() != "alice" {
		t.Errorf("got user %q, want alice", s.UserID())
	}
	if err := s.Put("from", "job"); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := c.get("/get?k=from"); got != "job" {
		t.Errorf("a change saved outside a request: got %q, want job", got)
	}
	for _, bad := range []string{"", "junk", c.cookie[:50] + "AAAA" + c.cookie[54:]} {
		if _, err := f.m.Open(ctx, bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Open(%.12q): got %v, want ErrInvalidToken", bad, err)
		}
	}
	captured := c.cookie
	c.get("/logout")
	if _, err := f.m.Open(ctx, captured); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Open after logout: got %v, want ErrInvalidToken", err)
	}
}

func TestTokenOfAnUnstoredSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/tok", func(w http.ResponseWriter, r *http.Request) {
		if _, err := f.m.Token(FromContext(r.Context())); !errors.Is(err, ErrNoToken) {
			t.Errorf("got %v, want ErrNoToken", err)
		}
	})
	f.client().get("/tok")
}

func TestOpenByHash(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.client()
	c.get("/login?u=alice")
	ctx := context.Background()
	s, err := f.m.OpenByHash(ctx, f.hashOf(c.cookie))
	if err != nil {
		t.Fatal(err)
	}
	if s.UserID() != "alice" {
		t.Errorf("got user %q", s.UserID())
	}
	if _, err := f.m.Token(s); !errors.Is(err, ErrNoToken) {
		t.Errorf("Token of a session opened by hash: got %v, want ErrNoToken", err)
	}
	if err := f.m.Renew(ctx, s); err == nil {
		t.Error("a session opened by hash was renewed")
	}
	s.Put("note", "x")
	if err := f.m.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := c.get("/get?k=note"); got != "x" {
		t.Errorf("got %q, want x", got)
	}
	if err := f.m.Destroy(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := c.get("/user"); got != "" {
		t.Errorf("destroyed by hash, still reads %q", got)
	}
	if _, err := f.m.OpenByHash(ctx, "zz"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("bad hash: got %v", err)
	}
}
