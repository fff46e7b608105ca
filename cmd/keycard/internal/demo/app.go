// Package demo is Keycard's demo web app: a small shop whose cart follows a
// visitor through sign-in, with profile and device pages, remember-me,
// failed-login limits, CSRF-protected forms, a JSON token API and a page
// kept entirely in a sealed cookie. Every page is rendered on the server;
// the only script is the live devices page's, which follows the session
// over server-sent events (Manager.Watch).
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/guard"
	"github.com/keycard-go/keycard/oidc"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/token"
)

// Cookie names of the demo's two browser-facing Managers.
const (
	CookieName       = keycard.DefaultCookieName // "__Host-keycard"
	SealedCookieName = "__Host-keycard-sealed"
)

// Policy of the demo's sessions.
const (
	rotateEvery        = 15 * time.Minute
	maxSessionsPerUser = 10
	clientFailureLimit = guard.DefaultLimit // failed sign-ins per account and client network per window
	hstsMaxAge         = 300                // seconds; see securityHeaders

	// A browser presents at most one refused session cookie (stale after
	// a restart, or revoked) before it is replaced; thirty a minute from
	// one address is someone guessing or replaying.
	maxRejectsPerMinute = 30
	// A visitor stores one anonymous session (a cart) per visit; thirty a
	// minute from one network (/32 or /64) is a flood.
	newVisitorsPerMinute = 30
	// An anonymous cart idle this long is dropped, sooner than a
	// signed-in session, so a flood gives its space back quickly.
	visitorIdle = 15 * time.Minute
	// maxVisitors bounds the anonymous carts a store that can count them
	// (memory, SQL) holds: a flood from many networks fills this many,
	// then visitors wait, and signed-in users never notice.
	maxVisitors = 100_000
	// watchEvery is how often the live page's stream (Manager.Watch)
	// checks the store for an end made elsewhere: one load per watched
	// session per interval, whatever the number of its open pages.
	watchEvery = 15 * time.Second
)

// Config configures the demo app.
type Config struct {
	// Store keeps the sessions. Required.
	Store store.Store
	// Keys sign cookies and tokens. Required.
	Keys *keycard.KeyFile
	// Origin is the app's own origin, such as "http://127.0.0.1:8080": the
	// issuer of its access tokens, and the base of the API page's
	// examples. Required.
	Origin string
	// TLS reports whether the app is served over HTTPS, which adds
	// Strict-Transport-Security to every response.
	TLS bool
	// StoreName describes the store on the pages, without secrets.
	StoreName string
	// Logger receives Keycard's events and the app's errors. The default
	// is slog.Default().
	Logger *slog.Logger
	// OIDC, if set, adds "Sign in with OpenID Connect" with this
	// provider. New fetches its discovery document.
	OIDC *OIDC
}

// App is the demo web app. It is an http.Handler.
type App struct {
	m          *keycard.Manager // browser sessions, in Config.Store
	sealed     *keycard.Manager // the sealed-cookie page's sessions
	api        *keycard.Manager // API sessions: the same store, no cookie
	iss        *token.Issuer
	csrf       *csrf.Protection
	sealedCSRF *csrf.Protection
	rp         *oidc.Client // nil without Config.OIDC
	logins     *guard.Limiter
	users      map[string]*user
	pages      map[string]*page
	log        *slog.Logger
	cfg        Config
	h          http.Handler
	quit       chan struct{} // closed by Close
	closeOnce  sync.Once
}

// New returns the demo app for cfg.
func New(cfg Config) (*App, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Origin == "" {
		return nil, errors.New("demo: Store, Keys and Origin are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &App{cfg: cfg, log: cfg.Logger, quit: make(chan struct{})}
	visitors := keycard.Visitors{PerMinute: newVisitorsPerMinute, Idle: visitorIdle}
	if _, ok := cfg.Store.(store.Counter); ok {
		visitors.Max = maxVisitors
	}
	var err error
	a.m, err = keycard.New(keycard.Config{
		Store:               cfg.Store,
		Keys:                cfg.Keys.Session,
		RotateEvery:         rotateEvery,
		MaxSessionsPerUser:  maxSessionsPerUser,
		MaxRejectsPerMinute: maxRejectsPerMinute,
		Visitors:            visitors,
		WatchEvery:          watchEvery,
		Logger:              cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	a.sealed, err = keycard.New(keycard.Config{
		Sealed:              true,
		Keys:                cfg.Keys.Session,
		Cookie:              keycard.Cookie{Name: SealedCookieName},
		MaxRejectsPerMinute: maxRejectsPerMinute,
		Logger:              cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	// API clients present access tokens, never a session cookie: their
	// sessions live in the same store (so they show on the devices page
	// and "log out everywhere" ends them), behind a Manager that ignores
	// cookies. Its Authorization carrier sends no response header.
	a.api, err = keycard.New(keycard.Config{
		Store:               cfg.Store,
		Keys:                cfg.Keys.Session,
		Header:              "Authorization",
		MaxSessionsPerUser:  maxSessionsPerUser,
		MaxRejectsPerMinute: maxRejectsPerMinute,
		Logger:              cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	keys, err := token.KeySetFromFile(cfg.Keys)
	if err != nil {
		return nil, err
	}
	a.iss, err = token.New(a.api, token.Config{
		Issuer: cfg.Origin, Audience: cfg.Origin + "/api",
		Keys: keys, RefreshKey: cfg.Keys.Refresh,
	})
	if err != nil {
		return nil, err
	}
	if a.csrf, err = csrf.New(a.m, csrf.Config{ErrorHandler: a.forbidden}); err != nil {
		return nil, err
	}
	if a.sealedCSRF, err = csrf.New(a.sealed, csrf.Config{ErrorHandler: a.forbidden}); err != nil {
		return nil, err
	}
	// Failure counts stay in this process: records of the limiter in the
	// session store would count as sessions in "keycard stats".
	a.logins = guard.New(guard.Config{Manager: a.m})
	if a.users, err = demoUsers(); err != nil {
		return nil, err
	}
	if a.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if a.rp, err = a.newOIDC(); err != nil {
		return nil, err
	}
	a.h = a.routes()
	return a, nil
}

// ServeHTTP serves the app.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

// Close ends the app's open event streams, which would otherwise hold a
// server's Shutdown until its deadline. Register it with
// http.Server.RegisterOnShutdown.
func (a *App) Close() { a.closeOnce.Do(func() { close(a.quit) }) }

func (a *App) routes() http.Handler {
	app := http.NewServeMux()
	app.HandleFunc("GET /{$}", a.home)
	app.HandleFunc("POST /cart/add", a.cartAdd)
	app.HandleFunc("POST /cart/remove", a.cartRemove)
	app.HandleFunc("POST /cart/clear", a.cartClear)
	app.HandleFunc("GET /login", a.loginPage)
	app.HandleFunc("POST /login", a.login)
	app.HandleFunc("POST /logout", a.logout)
	app.HandleFunc("GET /profile", a.profile)
	app.HandleFunc("POST /profile/renew", a.renew)
	app.HandleFunc("POST /impersonate", a.impersonate)
	app.HandleFunc("POST /impersonate/end", a.endImpersonation)
	app.HandleFunc("GET /devices", a.devices)
	app.HandleFunc("GET /devices/live", a.livePage)
	app.HandleFunc("GET /devices/events", a.liveEvents)
	app.HandleFunc("POST /devices/revoke", a.revoke)
	app.Handle("POST /devices/revoke-all", a.stepUp().Handler(http.HandlerFunc(a.revokeAll)))
	app.HandleFunc("GET /api", a.apiPage)
	if a.rp != nil {
		app.Handle("GET /oidc/login", a.rp.SignInHandler())
		app.HandleFunc("GET /oidc/callback", a.oidcCallback)
	}

	sealed := http.NewServeMux()
	sealed.HandleFunc("GET /sealed/{$}", a.sealedPage)
	sealed.HandleFunc("POST /sealed/count", a.sealedCount)
	sealed.HandleFunc("POST /sealed/note", a.sealedNote)
	sealed.HandleFunc("POST /sealed/reset", a.sealedReset)

	strict := a.iss.Middleware(true)
	root := http.NewServeMux()
	root.Handle("GET /static/", staticFiles())
	root.Handle("POST /api/token", a.api.Handler(http.HandlerFunc(a.apiToken)))
	root.Handle("POST /api/refresh", a.iss.RefreshHandler())
	root.Handle("GET /api/me", strict(http.HandlerFunc(a.apiMe)))
	root.Handle("POST /api/logout", strict(http.HandlerFunc(a.apiLogout)))
	root.Handle("GET /.well-known/jwks.json", a.iss.JWKS())
	if a.rp != nil {
		// The provider's logout requests: outside the Manager and csrf,
		// by construction (no cookie, no anti-forgery token).
		root.Handle("POST /oidc/backchannel-logout", a.rp.BackChannelLogout())
		root.Handle("GET /oidc/frontchannel-logout", a.rp.FrontChannelLogout())
	}
	root.Handle("/sealed/", a.m.Handler(keepMain(a.sealed.Handler(a.sealedCSRF.Handler(sealed)))))
	root.Handle("/", a.m.Handler(a.csrf.Handler(app)))
	return a.securityHeaders(root)
}

// securityHeaders sets the headers every response carries. The policy
// allows no script at all, only the app's own stylesheet and images; the
// live devices page alone replaces it with one that allows its own script
// and its event stream (liveCSP).
// HSTS, under TLS, is short on purpose: browsers apply it to a host name
// on every port, and a long one for "localhost" would force HTTPS on every
// other development server of the machine.
func (a *App) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		if a.cfg.TLS {
			h.Set("Strict-Transport-Security", fmt.Sprintf("max-age=%d", hstsMaxAge))
		}
		next.ServeHTTP(w, r)
	})
}

type mainKey struct{}

// keepMain keeps the request as the browser session's Manager passed it,
// so that the sealed pages, whose own Manager takes over
// keycard.FromContext, can still reach the browser session for the
// navigation bar and its sign-out form.
func keepMain(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), mainKey{}, r)))
	})
}

// mainRequest returns r as the browser session's Manager passed it.
func mainRequest(r *http.Request) *http.Request {
	if outer, ok := r.Context().Value(mainKey{}).(*http.Request); ok {
		return outer
	}
	return r
}

// fail answers a request whose session or store work failed.
func (a *App) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "keycard demo: request failed", "err", err, "method", r.Method, "path", r.URL.Path)
	http.Error(w, "The session store is unavailable; try again in a moment.", http.StatusServiceUnavailable)
}

// redirect answers a form post with 303 See Other to a page of the app.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath returns p if it is a path on this site, or "/". Browsers drop
// tabs and newlines from URLs and read a backslash as a slash, so
// "/<tab>/evil.example" and "/\evil.example" would leave the site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return "/"
	}
	for _, c := range []byte(p) {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	return p
}

// short returns the first 12 hex digits of a session hash, for display.
func short(hash string) string {
	if len(hash) < 12 {
		return hash
	}
	return hash[:12]
}
