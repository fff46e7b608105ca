package oidc

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"testing/synctest"
	"time"

	"github.com/keycard-go/keycard"
)

// A sign-in can be completed within FlowTimeout only; its state is
// refused after that, before anything is sent to the provider.
func TestFlowTimeout(t *testing.T) {
	t.Parallel()
	var tokenCalls int
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tokenCalls++
			http.Error(w, "no", http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/keys",
		})
	}))
	defer srv.Close()
	m, err := keycard.New(keycard.Config{InsecureAllowHTTP: true, Cookie: keycard.Cookie{Name: "s"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(t.Context(), m, Config{Issuer: srv.URL, ClientID: "c", RedirectURL: "http://127.0.0.1/cb", MapUser: mapAlice})
	if err != nil {
		t.Fatal(err)
	}
	var got error
	mux := http.NewServeMux()
	mux.Handle("GET /login", c.SignInHandler())
	mux.HandleFunc("GET /cb", func(w http.ResponseWriter, r *http.Request) { _, got = c.Callback(w, r) })
	h := m.Handler(mux)

	synctest.Test(t, func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/login", nil))
		loc, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != http.StatusSeeOther || err != nil {
			t.Fatalf("sign in: %d %v", rec.Code, err)
		}
		state := loc.Query().Get("state")
		cookie := rec.Result().Cookies()[0]

		time.Sleep(DefaultFlowTimeout + time.Second)
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/cb?"+url.Values{"state": {state}, "code": {"c"}}.Encode(), nil)
		req.AddCookie(cookie)
		h.ServeHTTP(httptest.NewRecorder(), req)
		if !errors.Is(got, ErrState) {
			t.Fatalf("a callback after FlowTimeout: %v, want ErrState", got)
		}
	})
	if tokenCalls != 0 {
		t.Errorf("the token endpoint was called %d times for an expired sign-in", tokenCalls)
	}
}
