package csrf

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"sync/atomic"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
)

// Defaults used by New for zero Config fields.
const (
	DefaultFieldName    = "csrf_token"
	DefaultHeaderName   = "X-CSRF-Token"
	DefaultMaxFormBytes = 10 << 20
)

// EventRejected is the kind of the Event a rejected request reports, with
// one of the reasons below.
const EventRejected event.Kind = "csrf-rejected"

// Reasons reported in the Event of a rejected request (EventRejected).
const (
	// ReasonCrossOrigin: the browser said, through Sec-Fetch-Site or
	// Origin, that the request came from another origin.
	ReasonCrossOrigin event.Reason = "cross-origin"
	// ReasonMissingToken: the request carried no token in the header or
	// the form field (or its form could not be read).
	ReasonMissingToken event.Reason = "missing-token"
	// ReasonNoSecret: the request carried a token, but neither a session
	// with an anti-forgery secret nor a visitor cookie to check it
	// against: the token was issued before a login, for a session that
	// has since ended, or for another client altogether.
	ReasonNoSecret event.Reason = "no-secret"
	// ReasonBadToken: the token is malformed, belongs to another session
	// or visitor, or is a visitor token presented by a signed-in session.
	ReasonBadToken event.Reason = "bad-token"
)

// Errors passed, wrapped, to Config.ErrorHandler and in Event.Err. Each
// matches one reason code. They never contain a token or a secret.
var (
	ErrCrossOrigin  = errors.New("csrf: cross-origin request")
	ErrMissingToken = errors.New("csrf: missing token")
	ErrNoSecret     = errors.New("csrf: no anti-forgery secret or visitor cookie")
	ErrBadToken     = errors.New("csrf: invalid token")
)

// Config configures a Protection. The zero Config is ready for use.
type Config struct {
	// FieldName is the form field that carries the token in
	// application/x-www-form-urlencoded and multipart/form-data bodies.
	// The default is "csrf_token".
	FieldName string

	// HeaderName is the request header that carries the token, for
	// scripts (fetch, XMLHttpRequest). It is checked before the form. The
	// default is "X-CSRF-Token".
	HeaderName string

	// TrustedOrigins lists origins, as exact "scheme://host[:port]"
	// strings such as "https://admin.example.com", whose requests pass
	// the origin check even though the browser marks them same-site or
	// cross-site. Their requests still need a valid token. New reports an
	// invalid origin as an error. The default trusts none.
	TrustedOrigins []string

	// BearerRoutes lists the routes of an API whose clients authenticate
	// with a bearer token rather than the session cookie, as
	// http.ServeMux patterns ("POST /api/"). A request that matches one
	// directly (as for AddInsecureBypassPattern), carries
	// "Authorization: Bearer <token>" and presents no live Keycard
	// session passes both checks, since a browser attaches no bearer
	// token on its own; the handlers of those routes must verify the
	// token. A bearer header exempts nothing elsewhere: a cookie login
	// form sent with "Authorization: Bearer x" is checked as usual. New
	// reports an invalid or conflicting pattern as an error. The default
	// is none.
	BearerRoutes []string

	// MaxFormBytes bounds how much of a form body the middleware reads
	// while looking for the token; a larger form is rejected as
	// ReasonMissingToken. Requests with bigger bodies, such as file
	// uploads, should send the token in the header, which leaves the body
	// alone. The default is 10 MiB; a negative value is an error.
	MaxFormBytes int64

	// ErrorHandler writes the response to a rejected request. err wraps
	// one of ErrCrossOrigin, ErrMissingToken, ErrNoSecret or ErrBadToken.
	// The default answers 403 Forbidden with the same plain body for
	// every reason, so a client learns nothing about which check failed.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// A Protection defends the handlers it wraps against cross-site request
// forgery, for the sessions of one keycard.Manager. Create it with New and
// install its Handler inside the Manager's:
//
//	m.Handler(p.Handler(mux))
//
// A Protection is safe for concurrent use.
type Protection struct {
	m       *keycard.Manager
	cop     *http.CrossOriginProtection
	field   string
	header  string
	maxForm int64
	onError func(http.ResponseWriter, *http.Request, error)

	bypass    *http.ServeMux
	hasBypass atomic.Bool
	bearer    *http.ServeMux // Config.BearerRoutes, or nil

	visitorKeys []keycard.Key // bind visitor tokens, newest first
	visitorName string        // the visitor cookie's name
}

// New returns a Protection for the sessions of m, after filling in the
// defaults of cfg and validating it.
func New(m *keycard.Manager, cfg Config) (*Protection, error) {
	if m == nil {
		return nil, errors.New("csrf: nil Manager")
	}
	p := &Protection{
		m:       m,
		cop:     http.NewCrossOriginProtection(),
		field:   cfg.FieldName,
		header:  cfg.HeaderName,
		maxForm: cfg.MaxFormBytes,
		onError: cfg.ErrorHandler,
		bypass:  http.NewServeMux(),

		visitorKeys: m.DeriveKeys(visitorPurpose),
		visitorName: m.CompanionCookie(nil, visitorSuffix, "").Name,
	}
	if p.field == "" {
		p.field = DefaultFieldName
	}
	if p.header == "" {
		p.header = DefaultHeaderName
	}
	if p.maxForm == 0 {
		p.maxForm = DefaultMaxFormBytes
	}
	if p.onError == nil {
		p.onError = forbidden
	}
	var errs []error
	if !validHeaderName(p.header) {
		errs = append(errs, fmt.Errorf("HeaderName %q is not a valid header name", p.header))
	}
	switch textproto.CanonicalMIMEHeaderKey(p.header) {
	case "Cookie", "Authorization":
		errs = append(errs, fmt.Errorf("HeaderName %q would carry credentials, not a token", p.header))
	}
	if p.maxForm < 0 {
		errs = append(errs, errors.New("MaxFormBytes is negative"))
	}
	for _, o := range cfg.TrustedOrigins {
		if err := p.cop.AddTrustedOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("TrustedOrigins: %w", err))
		}
	}
	if len(cfg.BearerRoutes) > 0 {
		p.bearer = http.NewServeMux()
		for _, pattern := range cfg.BearerRoutes {
			if err := addPattern(p.bearer, pattern); err != nil {
				errs = append(errs, fmt.Errorf("BearerRoutes: %w", err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("csrf: config: %w", err)
	}
	return p, nil
}

// validHeaderName reports whether name is an HTTP field name (an RFC 9110
// token).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// forbidden is the default ErrorHandler: a uniform 403.
func forbidden(w http.ResponseWriter, _ *http.Request, _ error) {
	http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
}

// safeMethod reports whether method is safe (RFC 9110, section 9.2.1):
// one that must not change state and so needs no token.
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// Handler returns the middleware that checks every request with an unsafe
// method (anything but GET, HEAD, OPTIONS and TRACE) before passing it to
// next:
//
//  1. Requests matching a bypass pattern pass (AddInsecureBypassPattern).
//  2. Requests to a bearer route (Config.BearerRoutes) authenticated by a
//     bearer token pass: those with an "Authorization: Bearer" header and
//     no live Keycard session from a cookie (see the package
//     documentation for why).
//  3. The origin check of http.CrossOriginProtection: a request the
//     browser marks as cross-site or same-site through Sec-Fetch-Site,
//     unless its Origin is trusted, or one without Sec-Fetch-Site whose
//     Origin does not match its Host, is rejected (ReasonCrossOrigin).
//  4. The token check: the request must carry a token from Token, in the
//     header or the form field, for this session's secret or for the
//     visitor cookie it carries (the latter only while the session is not
//     signed in).
//
// A rejected request gets Config.ErrorHandler's response and a
// EventRejected with the reason. next never sees it, and nothing in
// the session changes. A request that passes the token check and logs its
// session in has its visitor cookie deleted in the response.
//
// Handler must be installed inside the Manager's Handler, since it reads
// the session with keycard.FromContext; it panics otherwise. Safe methods
// are not checked: the session is not even loaded. Every request but
// those of a Manager with a header carrier, which are never checked, gets
// what Token needs to issue visitor tokens: a context value and a wrapped
// ResponseWriter.
func (p *Protection) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.m.Header() != "" {
			next.ServeHTTP(w, r)
			return
		}
		v, w, r := p.newVisit(w, r)
		if safeMethod(r.Method) || p.bypassed(r) {
			next.ServeHTTP(w, r)
			return
		}
		s := v.s
		if p.bearerRoute(r) && bearer(r) {
			if len(r.Header.Values("Cookie")) == 0 {
				next.ServeHTTP(w, r)
				return
			}
			if s.Err() != nil {
				return // the Manager answers with its ErrorHandler
			}
			if s.IsNew() {
				next.ServeHTTP(w, r)
				return
			}
		}
		if err := p.cop.Check(r); err != nil {
			p.reject(w, r, nil, ReasonCrossOrigin, fmt.Errorf("%w: %v", ErrCrossOrigin, err))
			return
		}
		if s.Err() != nil {
			return // the Manager answers with its ErrorHandler
		}
		parsed := r.MultipartForm != nil
		tok, formErr := p.presented(w, r)
		if !parsed && r.MultipartForm != nil {
			// Parsed here on a copy of the server's request, so the server
			// would not remove its temporary files: do it when done.
			defer r.MultipartForm.RemoveAll()
		}
		if reason, err := p.check(v, tok, formErr); err != nil {
			p.reject(w, r, s, reason, err)
			return
		}
		v.cookie.mu.Lock()
		v.verified = true
		v.cookie.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// bearer reports whether r carries "Authorization: Bearer <credentials>".
func bearer(r *http.Request) bool {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(cred) != ""
}

// check verifies the presented token against the session's secret and the
// visitor cookie of v, and returns the reason and error of a rejection, or
// "" and nil. A visitor token counts only while the session is not signed
// in: a token issued to a visitor does not outlive their login.
func (p *Protection) check(v *visit, tok string, formErr error) (event.Reason, error) {
	if tok == "" {
		if formErr != nil {
			return ReasonMissingToken, fmt.Errorf("%w: reading the form: %w", ErrMissingToken, formErr)
		}
		return ReasonMissingToken, ErrMissingToken
	}
	v.cookie.mu.Lock()
	visitor := v.cookie.value
	if v.cookie.fresh {
		visitor = "" // set by this response, so no page holds a token for it
	}
	v.cookie.mu.Unlock()
	secret, ok := keycard.Get[[]byte](v.s, secretKey)
	hasSecret := ok && len(secret) == secretSize
	if hasSecret && verify(secret, tok) {
		return "", nil
	}
	if visitor != "" && v.s.UserID() == "" && p.verifyVisitor(visitor, tok) {
		return "", nil
	}
	if !hasSecret && visitor == "" {
		return ReasonNoSecret, ErrNoSecret
	}
	return ReasonBadToken, ErrBadToken
}

// reject reports the rejection of r as an event and answers it with the
// ErrorHandler. s is nil when the session was not needed to decide.
func (p *Protection) reject(w http.ResponseWriter, r *http.Request, s *keycard.Session, reason event.Reason, err error) {
	ev := event.Event{Kind: EventRejected, Reason: reason, Err: err, Request: r}
	if s != nil {
		ev.Session, ev.UserID = s.Info().Hash, s.UserID()
	}
	p.m.Emit(ev)
	// Every refusal carries the same caching headers, whether or not the
	// session was loaded, so its headers say nothing about why.
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if h.Get("Vary") == "" {
		h.Set("Vary", "Cookie")
	}
	p.onError(w, r, err)
}
