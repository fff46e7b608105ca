package keycard

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/internal/keyring"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// DefaultCookieName is the session cookie's name when Config.Cookie.Name is
// empty.
const DefaultCookieName = "__Host-keycard"

// Defaults used by New for other zero Config fields; the fields' docs say
// them.
const (
	defaultIdleTimeout     = 30 * time.Minute
	defaultAbsoluteTimeout = 8 * time.Hour
	defaultRememberIdle    = 7 * 24 * time.Hour
	defaultRememberMax     = 30 * 24 * time.Hour
	defaultMaxSize         = 64 << 10
	defaultStoreTimeout    = 5 * time.Second
)

// maxCookieLifetime is the longest lifetime browsers honour (RFC 6265bis).
const maxCookieLifetime = 400 * 24 * time.Hour

// maxRetries bounds how often a conflicting save is rebased and retried.
// With the jittered backoff between retries (at most 25 ms each), a
// hundred concurrent writers on one session all get through well within
// it, even on a store whose every commit waits for a slow disk; the
// request's context ends the retries sooner if it is cancelled.
const maxRetries = 200

// Config configures a Manager. The zero Config is safe for production on a
// single instance: an in-memory store, a random per-process signing key, a
// "__Host-keycard" cookie that is HttpOnly, Secure and SameSite=Lax, a
// 30-minute idle timeout and an 8-hour absolute timeout.
type Config struct {
	// Store keeps session records. The default is a new memory store with
	// its default bound of one million sessions. The Manager discovers a
	// store's optional capabilities (store.UserIndex, store.Scanner, ...)
	// by type assertion, so a wrapper around a store must offer exactly
	// the capabilities of the store it wraps.
	Store store.Store

	// Keys sign session cookies, newest first: the first key signs, every
	// key verifies, so a secret is rotated by adding a new key in front
	// and removing the old one once its cookies have expired. Each key
	// must hold at least 32 random bytes (see NewKey). The default is one
	// random key per process, so sessions do not survive a restart and do
	// not work across instances; set Keys whenever Store is shared or
	// persistent, typically from a key file (LoadKeys).
	Keys []Key

	// Sealed keeps each session whole in its cookie, encrypted and
	// authenticated (AES-256-GCM) under keys derived from Keys, instead of
	// in a Store, which must then be nil. It suits
	// small apps that want no server state, at a price: values are limited
	// to about 2.7 KB (the cookie's 4096 bytes), concurrent requests of one
	// session are last-write-wins, device lists and Revoke are unavailable,
	// and a logged-out cookie stays valid until it expires unless the app
	// sets RevokedBefore. The default is false: sessions live in Store.
	Sealed bool

	// RevokedBefore, if set, is asked on every load of a session bound to
	// a user: a session whose user authenticated before the returned time
	// is revoked (deleted, with an event.Destroyed). An application makes
	// "log out everywhere" work for sealed sessions by recording such a
	// time per user, typically in its user table, and returning it here.
	// An error fails the request (fail closed). The default is nil.
	RevokedBefore func(ctx context.Context, userID string) (time.Time, error)

	// Cookie sets the session cookie's attributes.
	Cookie Cookie

	// Timeouts are the idle and absolute timeouts of ordinary sessions.
	// The defaults are 30 minutes and 8 hours (OWASP and NIST AAL2
	// guidance). They are enforced on the server on every request.
	Timeouts Timeouts

	// RememberMe are the timeouts of sessions marked with
	// Manager.RememberMe, whose cookie also persists across browser
	// restarts. The defaults are 7 days idle and 30 days absolute.
	RememberMe Timeouts

	// RotateEvery, if positive, gives a session a new ID automatically once
	// this long has passed since its ID last changed (at creation, login,
	// Renew or the previous rotation), so a stolen ID stops working
	// without a logout. The old ID keeps working for RotationGrace, so
	// requests already in flight are not logged out. A rotation costs one
	// store call where the store saves batches (store.Batcher: memory,
	// Redis), two writes elsewhere. Requests and instances that rotate a
	// session at once, even instances whose newest keys differ during a
	// key rollout, end with one record: one move wins, the others follow
	// it, and no write is lost. It does not apply to sealed sessions, to the
	// Authorization header carrier (its clients see no response header),
	// or to sessions that back refresh tokens. The default is 0: off; 15
	// to 60 minutes is a sensible value.
	RotateEvery time.Duration

	// RotationGrace is how long a rotated-away ID still resolves to its
	// session. The default is 30 seconds.
	RotationGrace time.Duration

	// Binding optionally ties sessions to their client's address prefix
	// and user agent; see Binding. The default binds nothing. It cannot be
	// used with Sealed, which keeps no client details.
	Binding Binding

	// MaxSessionsPerUser, if positive, caps how many sessions one user may
	// have: a login past the cap revokes that user's sessions with the
	// oldest authentication time. It needs a store with a user index
	// (store.UserIndex). The default is 0: no cap.
	MaxSessionsPerUser int

	// MaxSize bounds a session's encoded values, in bytes. Put refuses a
	// value that would cross it with ErrTooLarge. The default is 64 KiB.
	MaxSize int

	// MaxRejectsPerMinute, if positive, limits how many refused session
	// tokens (malformed, forged, duplicate, unknown or expired) one client
	// address may present per minute: past the limit, its requests that
	// carry a session token are answered 429 Too Many Requests, without
	// running the handler, until the minute is over, and an
	// event.Rejected with event.ReasonRateLimited is reported. Requests without
	// a token are always served. Configure TrustedProxies behind a proxy,
	// or every client shares the proxy's address. The default is 0: no
	// limit.
	MaxRejectsPerMinute int

	// Visitors bounds anonymous sessions: a per-network rate of new ones
	// and their own idle timeout. See Visitors.
	Visitors Visitors

	// WatchEvery is how often a Watch checks the store for an end of its
	// session that another instance caused; ends on this instance are
	// seen at once. See Watch for the cost. The default is 15 seconds.
	WatchEvery time.Duration

	// StoreTimeout bounds each store call a request makes (load, save,
	// touch, delete): past it the call fails and the request gets the
	// ErrorHandler's 503, instead of waiting on a stalled store for as long
	// as the client does. Calls that start within a sixteenth of it share
	// one deadline (and one timer), so a call may run up to that sixteenth
	// longer. A request canceled before a call makes none. A request
	// context whose own deadline comes first is used as it is, so its
	// cancellation also ends a call under way; otherwise a call under way
	// runs to its end or its deadline. The default is 5 seconds; a
	// negative value sets no bound. A store that never waits
	// (store.NonBlocking, as the memory store) is not bounded.
	StoreTimeout time.Duration

	// Codec encodes session values. The default is CBOR (RFC 8949), which
	// round-trips Go types faithfully (integers stay integers, times keep
	// their nanoseconds) and decodes with strict limits: 16 levels of
	// nesting, 64 Ki array elements and map pairs; indefinite lengths,
	// duplicate map keys and invalid UTF-8 refused. Values decoded into an
	// interface type become map[string]any for maps.
	Codec Codec

	// SaveUninitialized saves a new session, and sets its cookie, even
	// when the request stored nothing in it. The default (false) writes
	// nothing and sets no cookie for an untouched new session. Turning it
	// on also makes every request load its session, used or not.
	SaveUninitialized bool

	// InsecureAllowHTTP sets the cookie's Secure attribute only on
	// requests that arrived over TLS, directly or through a trusted proxy
	// that sent "X-Forwarded-Proto: https". Use it only for a development
	// server reached by a name other than localhost over plain HTTP. It
	// needs a Cookie.Name without the "__Host-" prefix.
	InsecureAllowHTTP bool

	// Header, if set, makes the session travel in this request header
	// instead of a cookie, for mobile apps, CLIs and other non-browser
	// clients. "Authorization" reads "Authorization: Bearer <token>";
	// any other name reads the header's whole value, and the Manager also
	// sets that response header whenever the client's token changes (a new
	// or renewed session). Either way Manager.Token returns the current
	// token, for example to put in a login response's body. The token is
	// exactly what the cookie would hold, with the same expiry and
	// revocation; cookies are then ignored entirely. The default is "":
	// the cookie carrier.
	Header string

	// TrustedProxies lists the proxies whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed. The default trusts none:
	// the client address is the connection's peer.
	TrustedProxies []netip.Prefix

	// IDSource supplies the random bytes of new session IDs. It must be a
	// cryptographically secure source. The default is crypto/rand.
	IDSource io.Reader

	// OnEvent, if set, receives every lifecycle and security event, after
	// Keycard has logged it with Logger (see event.Event): count, audit or
	// forward events here. Logging is Logger's business: to turn the event
	// logs off, give Logger a handler that drops them.
	OnEvent func(event.Event)

	// ErrorHandler writes the response when the session cannot be loaded
	// or saved (a store failure). The default logs err with Logger and
	// answers 503 Service Unavailable.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger receives the event and error logs: routine lifecycle steps
	// at Debug, the authentic token of a session that no longer exists at
	// Info, and every refusal or security signal at Warn, rate-limited so
	// that a flood of forged requests cannot flood the log. The default is
	// slog.Default(). Keycard never logs raw session IDs, tokens or keys.
	Logger *slog.Logger
}

// Cookie holds the session cookie's attributes. HttpOnly is always set.
type Cookie struct {
	// Name is the cookie name. The default is "__Host-keycard"; a name
	// with the "__Host-" prefix requires Path "/" and no Domain.
	Name string

	// Domain is the cookie's Domain attribute. The default is none, which
	// keeps the cookie to the exact host that set it.
	Domain string

	// Path is the cookie's Path attribute. The default is "/".
	Path string

	// SameSite is the cookie's SameSite attribute. The default is
	// http.SameSiteLaxMode; http.SameSiteNoneMode is allowed only with
	// Secure cookies (not with InsecureAllowHTTP).
	SameSite http.SameSite

	// Persist makes every session's cookie persistent (it survives a
	// browser restart until the session's absolute deadline). The default
	// is a browser-session cookie, except for sessions marked with
	// Manager.RememberMe.
	Persist bool

	// Partitioned sets the Partitioned attribute (CHIPS), for sessions
	// embedded in third-party contexts. It requires SameSite None.
	Partitioned bool

	// ClearSiteData makes Logout also send `Clear-Site-Data: "cookies"`,
	// which tells the browser to drop every cookie of the site, not only
	// the session's. Leave it off when the site keeps other cookies the
	// user expects to keep (preferences, consent). The default is false.
	ClearSiteData bool
}

// Timeouts bound a session's life.
type Timeouts struct {
	// Idle ends a session after this long without activity.
	Idle time.Duration
	// Absolute ends a session this long after it began, whatever its
	// activity. Renewing the ID does not extend it.
	Absolute time.Duration
}

// A Manager loads, saves and secures sessions. Create one with New, install
// its Handler middleware, and reach the session in handlers with
// FromContext. A Manager is safe for concurrent use.
type Manager struct {
	// cfg is the Config as given to New, with defaults filled in, Header
	// canonicalized, MaxSize bounded for sealed cookies, and Keys cleared:
	// the keys live on only in what was derived from them.
	cfg Config

	// What New derived from cfg.
	ids          *idSigner        // signs and verifies session IDs
	derived      *keyring.Deriver // DeriveKeys
	carrier      carrier          // moves sessions between client and server
	sessionStore store.Store      // cfg.Store, bounded by StoreTimeout, for request paths
	rejects      *minuteLimit     // Config.MaxRejectsPerMinute, or nil
	visitors     *minuteLimit     // Config.Visitors.PerMinute, or nil
	warnings     logBudget        // bounds the default event logger's warnings
	watches      watches          // Watch: sessions followed for long-lived connections
	anonymous    anonymousCount   // Config.Visitors.Max
	lanes        lanes            // serializes this instance's writes per session
}

// New returns a Manager for cfg, after filling in defaults and validating
// it. It reports unsafe or contradictory settings as errors.
func New(cfg Config) (*Manager, error) {
	m := &Manager{cfg: cfg, rejects: newMinuteLimit(cfg.MaxRejectsPerMinute), visitors: newMinuteLimit(cfg.Visitors.PerMinute)}
	m.cfg.Keys = nil
	m.cfg.Header = http.CanonicalHeaderKey(cfg.Header)
	if cfg.Sealed && cfg.Store != nil {
		return nil, errors.New("keycard: config: Sealed sessions live in cookies; leave Store nil")
	}
	if cfg.Sealed && (cfg.Binding.enabled() || cfg.MaxSessionsPerUser > 0) {
		return nil, errors.New("keycard: config: Binding and MaxSessionsPerUser need stored sessions, not Sealed")
	}
	if cfg.Sealed && cfg.Header != "" {
		return nil, errors.New("keycard: config: Sealed sessions travel only in cookies; leave Header empty")
	}
	m.setDefaults()
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("keycard: config: %w", err)
	}
	keys := cfg.Keys
	if len(keys) == 0 {
		if cfg.Store != nil || cfg.Sealed {
			m.cfg.Logger.Warn("keycard: no Keys configured; using a random per-process key, so sessions will not survive a restart or work across instances")
		}
		keys = []Key{NewKey()}
	}
	secrets := make([][]byte, len(keys))
	for i, k := range keys {
		secrets[i] = k
	}
	ids, err := newIDSigner(secrets, m.cfg.Cookie.Name)
	if err != nil {
		return nil, fmt.Errorf("keycard: config: Keys: %w", err)
	}
	m.ids = ids
	if c, ok := m.cfg.Store.(store.Counter); ok {
		m.anonymous.max, m.anonymous.from = m.cfg.Visitors.Max, c
	}
	if m.derived, err = keyring.NewDeriver(secrets); err != nil {
		return nil, fmt.Errorf("keycard: config: Keys: %w", err)
	}
	if m.carrier, err = m.newCarrier(&cfg, secrets); err != nil {
		return nil, fmt.Errorf("keycard: config: Keys: %w", err)
	}
	m.sessionStore = m.cfg.Store
	nb, ok := m.cfg.Store.(store.NonBlocking)
	switch t := cfg.StoreTimeout; {
	case ok && nb.NeverBlocks(): // nothing to bound
	case t == 0:
		m.sessionStore = timed(m.cfg.Store, defaultStoreTimeout)
	case t > 0:
		m.sessionStore = timed(m.cfg.Store, t)
	}
	if cfg.Sealed {
		m.cfg.MaxSize = min(m.cfg.MaxSize, sealedValueBudget(m.cfg.Cookie.Name))
	}
	return m, nil
}

func (m *Manager) setDefaults() {
	if m.cfg.Store == nil && !m.cfg.Sealed {
		m.cfg.Store = memory.New(memory.Config{})
	}
	if m.cfg.Cookie.Name == "" {
		m.cfg.Cookie.Name = DefaultCookieName
	}
	if m.cfg.Cookie.Path == "" {
		m.cfg.Cookie.Path = "/"
	}
	if m.cfg.Cookie.SameSite == 0 || m.cfg.Cookie.SameSite == http.SameSiteDefaultMode {
		m.cfg.Cookie.SameSite = http.SameSiteLaxMode
	}
	if m.cfg.Timeouts.Idle == 0 {
		m.cfg.Timeouts.Idle = defaultIdleTimeout
	}
	if m.cfg.Timeouts.Absolute == 0 {
		m.cfg.Timeouts.Absolute = defaultAbsoluteTimeout
	}
	if m.cfg.RememberMe.Idle == 0 {
		m.cfg.RememberMe.Idle = defaultRememberIdle
	}
	if m.cfg.RememberMe.Absolute == 0 {
		m.cfg.RememberMe.Absolute = defaultRememberMax
	}
	if m.cfg.RotationGrace == 0 {
		m.cfg.RotationGrace = 30 * time.Second
	}
	if m.cfg.WatchEvery == 0 {
		m.cfg.WatchEvery = 15 * time.Second
	}
	if m.cfg.MaxSize == 0 {
		m.cfg.MaxSize = defaultMaxSize
	}
	if m.cfg.Codec == nil {
		m.cfg.Codec = defaultCodec
	}
	if m.cfg.IDSource == nil {
		m.cfg.IDSource = rand.Reader
	}
	if m.cfg.Logger == nil {
		m.cfg.Logger = slog.Default()
	}
	if m.cfg.ErrorHandler == nil {
		m.cfg.ErrorHandler = m.defaultError
	}
}

func (m *Manager) validate() error {
	c := m.cfg.Cookie
	var errs []error
	if !validCookieName(c.Name) {
		errs = append(errs, fmt.Errorf("Cookie.Name %q is not a valid cookie name", c.Name))
	}
	if strings.HasPrefix(c.Name, "__Host-") && (c.Domain != "" || c.Path != "/" || m.cfg.InsecureAllowHTTP) {
		errs = append(errs, errors.New(`a "__Host-" cookie needs Path "/", no Domain and Secure (no InsecureAllowHTTP)`))
	}
	if strings.HasPrefix(c.Name, "__Secure-") && m.cfg.InsecureAllowHTTP {
		errs = append(errs, errors.New(`a "__Secure-" cookie cannot be used with InsecureAllowHTTP`))
	}
	if c.SameSite == http.SameSiteNoneMode && m.cfg.InsecureAllowHTTP {
		errs = append(errs, errors.New("a SameSite None cookie needs Secure (no InsecureAllowHTTP)"))
	}
	if c.Partitioned && c.SameSite != http.SameSiteNoneMode {
		errs = append(errs, errors.New("a Partitioned cookie needs SameSite None"))
	}
	for _, t := range []struct {
		name string
		t    Timeouts
	}{{"Timeouts", m.cfg.Timeouts}, {"RememberMe", m.cfg.RememberMe}} {
		if t.t.Idle < 0 || t.t.Absolute < 0 || t.t.Idle > t.t.Absolute {
			errs = append(errs, fmt.Errorf("%s: need 0 < Idle <= Absolute, got %v and %v", t.name, t.t.Idle, t.t.Absolute))
		}
	}
	if v := m.cfg.Visitors; v.PerMinute < 0 || v.Idle < 0 || v.Idle > m.cfg.Timeouts.Idle {
		errs = append(errs, fmt.Errorf("Visitors: need PerMinute >= 0 and 0 <= Idle <= Timeouts.Idle, got %d and %v", v.PerMinute, v.Idle))
	}
	if v := m.cfg.Visitors.Max; v < 0 {
		errs = append(errs, errors.New("Visitors.Max must not be negative"))
	} else if _, ok := m.cfg.Store.(store.Counter); v > 0 && !ok {
		errs = append(errs, fmt.Errorf("Visitors.Max needs a store that counts anonymous sessions (store.Counter); %T does not", m.cfg.Store))
	}
	if m.cfg.WatchEvery < 0 {
		errs = append(errs, errors.New("WatchEvery must not be negative"))
	}
	if m.cfg.RememberMe.Absolute > maxCookieLifetime {
		errs = append(errs, fmt.Errorf("RememberMe.Absolute %v exceeds the 400-day cookie limit", m.cfg.RememberMe.Absolute))
	}
	if m.cfg.Header != "" && !validCookieName(m.cfg.Header) {
		errs = append(errs, fmt.Errorf("Header %q is not a valid header name", m.cfg.Header))
	}
	if b := m.cfg.Binding; b.IPv4Prefix < 0 || b.IPv4Prefix > 32 || b.IPv6Prefix < 0 || b.IPv6Prefix > 128 {
		errs = append(errs, errors.New("Binding prefixes must be 0-32 bits (IPv4) and 0-128 bits (IPv6)"))
	}
	if m.cfg.MaxSessionsPerUser > 0 {
		if _, ok := m.cfg.Store.(store.UserIndex); !ok {
			errs = append(errs, fmt.Errorf("MaxSessionsPerUser needs a store with a user index; %T has none", m.cfg.Store))
		}
	}
	if m.cfg.RotateEvery < 0 || m.cfg.RotationGrace < 0 {
		errs = append(errs, errors.New("RotateEvery and RotationGrace must not be negative"))
	}
	if m.cfg.MaxSize < 0 {
		errs = append(errs, errors.New("MaxSize is negative"))
	}
	return errors.Join(errs...)
}

func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// Store returns the store the Manager uses, or nil for sealed sessions
// (Config.Sealed), which are not stored.
func (m *Manager) Store() store.Store { return m.cfg.Store }

// Logger returns the logger the Manager logs to (Config.Logger or
// slog.Default()), for companion packages that log on its behalf.
func (m *Manager) Logger() *slog.Logger { return m.cfg.Logger }

// timeouts returns the timeouts that apply to a session.
func (m *Manager) timeouts(persistent bool) Timeouts {
	if persistent {
		return m.cfg.RememberMe
	}
	return m.cfg.Timeouts
}

// defaultError logs err and answers 503, or 429 for a client past
// Visitors.PerMinute. Refusals that a flood causes (ErrTooManySessions,
// store.ErrFull) are not logged here: their events are, within the
// warning budget.
func (m *Manager) defaultError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrTooManySessions):
		w.Header().Set("Retry-After", "60")
		http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
		return
	case errors.Is(err, store.ErrFull):
		w.Header().Set("Retry-After", "60")
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	m.cfg.Logger.ErrorContext(r.Context(), "keycard: session unavailable", "err", err, "method", r.Method, "path", r.URL.Path)
	http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
}
