package rptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/oidc"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/token"
)

// The provider's example logs every request through slog's default
// logger; the tests read events instead.
func init() { slog.SetDefault(slog.New(slog.DiscardHandler)) }

// app is the application under test: keycard, csrf, token and oidc,
// wired as their documentation says, on a loopback port.
type app struct {
	URL    string
	m      *keycard.Manager
	rp     *oidc.Client
	tokens *token.Issuer
	p      *provider
	tamper *tamperer
	events *eventLog
}

// setup starts one provider and n instances of the application, sharing
// one store (each instance gets its own handle from open) and one set of
// keys, as instances behind a load balancer would.
func setup(t *testing.T, n int, open func(t *testing.T) store.Store) (*provider, []*app) {
	t.Helper()
	key := keycard.NewKey()
	refreshKey := keycard.NewKey()
	handlers := make([]*deferred, n)
	urls := make([]string, n)
	for i := range n {
		handlers[i] = &deferred{}
		srv := httptest.NewServer(handlers[i])
		t.Cleanup(srv.Close)
		urls[i] = srv.URL
	}
	redirects := make([]string, n)
	for i, u := range urls {
		redirects[i] = u + "/callback"
	}
	logout := make([]string, n)
	for i, u := range urls {
		logout[i] = u + "/logged-out"
	}
	p := startProvider(t, redirects, logout)
	apps := make([]*app, n)
	for i := range n {
		apps[i] = newApp(t, p, urls[i], open(t), key, refreshKey)
		handlers[i].set(apps[i].handler())
	}
	return p, apps
}

// memoryStore returns a new memory store (one instance only).
func memoryStore(t *testing.T) store.Store { return memory.New(memory.Config{}) }

func newApp(t *testing.T, p *provider, url string, st store.Store, key, refreshKey keycard.Key) *app {
	t.Helper()
	a := &app{URL: url, p: p, events: &eventLog{}}
	var err error
	a.m, err = keycard.New(keycard.Config{
		Store:             st,
		Keys:              []keycard.Key{key},
		InsecureAllowHTTP: true, // plain HTTP on loopback
		Cookie:            keycard.Cookie{Name: "session"},
		OnEvent:           a.events.add,
		Logger:            slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	a.tokens, err = token.New(a.m, token.Config{Issuer: url, Audience: url, RefreshKey: refreshKey})
	if err != nil {
		t.Fatal(err)
	}
	a.tamper = &tamperer{next: http.DefaultTransport}
	a.rp, err = oidc.New(t.Context(), a.m, oidc.Config{
		Issuer:                p.URL,
		ClientID:              clientID,
		ClientSecret:          clientSecret,
		RedirectURL:           url + "/callback",
		PostLogoutRedirectURL: url + "/logged-out",
		HTTPClient:            &http.Client{Transport: a.tamper},
		MapUser: func(ctx context.Context, in *oidc.SignIn) (oidc.User, error) {
			var c struct {
				Sub string `json:"sub"`
			}
			if err := in.Claims(&c); err != nil || c.Sub != in.Subject {
				return oidc.User{}, fmt.Errorf("claims: %v", err)
			}
			return oidc.User{ID: "user-" + in.Subject}, nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "refused: "+classify(err), http.StatusBadRequest)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// classify names the sentinel err wraps.
func classify(err error) string {
	for _, c := range []struct {
		name string
		err  error
	}{
		{"state", oidc.ErrState}, {"provider", oidc.ErrProvider}, {"exchange", oidc.ErrExchange},
		{"id-token", oidc.ErrIDToken}, {"auth-level", oidc.ErrAuthLevel},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "other: " + err.Error()
}

// handler is the application, mounted as package oidc's documentation
// says: the provider's logout endpoints and the token endpoint beside the
// Manager's and csrf's handlers, everything else inside them.
func (a *app) handler() http.Handler {
	protect, err := csrf.New(a.m, csrf.Config{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /login", a.rp.SignInHandler())
	mux.HandleFunc("GET /step-up", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		opts := oidc.AuthOptions{ReturnTo: q.Get("return_to"), Prompt: "login"}
		if v, err := strconv.Atoi(q.Get("max_age")); err == nil {
			opts.MaxAge = time.Duration(v) * time.Second
		}
		if v := q.Get("acr"); v != "" {
			opts.ACRValues = strings.Split(v, ",")
		}
		if err := a.rp.SignIn(w, r, opts); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.Handle("GET /callback", a.rp.CallbackHandler())
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		id, ok := oidc.IdentityOf(s)
		cart, _ := keycard.Get[[]string](s, "cart")
		out := whoami{User: s.UserID(), Cart: cart}
		if ok {
			out.Identity = &id
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("GET /cart/add", func(w http.ResponseWriter, r *http.Request) {
		s := keycard.FromContext(r.Context())
		cart, _ := keycard.Get[[]string](s, "cart")
		s.Put("cart", append(cart, r.URL.Query().Get("item")))
	})
	mux.HandleFunc("GET /csrf", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, csrf.Token(r)) })
	mux.HandleFunc("POST /password-login", func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.Login(r.Context(), keycard.FromContext(r.Context()), r.URL.Query().Get("user")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /api/tokens", func(w http.ResponseWriter, r *http.Request) {
		pair, err := a.tokens.Issue(r.Context(), keycard.FromContext(r.Context()))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		pair.WriteResponse(w)
	})
	mux.Handle("POST /logout", a.rp.SignOutHandler())
	mux.Handle("GET /logged-out", a.rp.PostLogoutHandler())
	mux.HandleFunc("GET /bye", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "bye") })
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page "+r.URL.RequestURI()) })

	root := http.NewServeMux()
	root.Handle("POST /oidc/backchannel-logout", a.rp.BackChannelLogout())
	root.Handle("GET /oidc/frontchannel-logout", a.rp.FrontChannelLogout())
	root.Handle("POST /token", a.tokens.RefreshHandler())
	root.Handle("/", a.m.Handler(protect.Handler(mux)))
	return root
}

// whoami is what GET /whoami answers.
type whoami struct {
	User     string
	Identity *oidc.Identity
	Cart     []string
}

// eventLog collects a Manager's events.
type eventLog struct {
	mu     sync.Mutex
	events []event.Event
}

func (l *eventLog) add(ev event.Event) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
}

// count returns how many events of kind and reason were emitted.
func (l *eventLog) count(kind event.Kind, reason event.Reason) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ev := range l.events {
		if ev.Kind == kind && ev.Reason == reason {
			n++
		}
	}
	return n
}

// tamperer passes the application's requests to the provider, and can
// replace the ID token of the provider's token responses: the test
// provider's own signing key signs the replacement, so only the claim or
// header the test changed is wrong.
type tamperer struct {
	next http.RoundTripper
	mu   sync.Mutex
	fn   func(header, claims map[string]any) string
}

// set makes f rewrite the next token responses' ID tokens, until the test
// ends. f gets the ID token's header and claims and returns the token to
// send instead.
func (tp *tamperer) set(t *testing.T, f func(header, claims map[string]any) string) {
	tp.mu.Lock()
	tp.fn = f
	tp.mu.Unlock()
	t.Cleanup(func() {
		tp.mu.Lock()
		tp.fn = nil
		tp.mu.Unlock()
	})
}

func (tp *tamperer) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := tp.next.RoundTrip(r)
	tp.mu.Lock()
	fn := tp.fn
	tp.mu.Unlock()
	if err != nil || fn == nil || r.Method != http.MethodPost || res.StatusCode != http.StatusOK {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	var resp map[string]any
	if json.Unmarshal(body, &resp) == nil {
		if raw, ok := resp["id_token"].(string); ok {
			header, claims := decodeJWT(raw)
			resp["id_token"] = fn(header, claims)
			body, _ = json.Marshal(resp)
		}
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	res.ContentLength = int64(len(body))
	res.Header.Del("Content-Length")
	return res, nil
}

// decodeJWT decodes a compact JWS's header and claims without verifying
// it: the test only rewrites tokens it then signs again.
func decodeJWT(raw string) (header, claims map[string]any) {
	parts := strings.Split(raw, ".")
	for i, dst := range []*map[string]any{&header, &claims} {
		b, _ := base64.RawURLEncoding.DecodeString(parts[i])
		json.Unmarshal(b, dst)
	}
	return header, claims
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
