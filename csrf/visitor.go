package csrf

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/keycard-go/keycard"
)

// VisitorCookieName is the name of the cookie that carries a visitor's
// random value, to which the tokens of a session not yet stored are bound
// (see the package documentation), with the Manager's default cookie
// name: the visitor cookie is named the session cookie's name plus
// "-csrf", and has its attributes (keycard.Manager.CompanionCookie). The
// default "__Host-" prefix makes browsers refuse it unless it is Secure,
// has Path "/" and no Domain: a sibling subdomain or a network attacker
// cannot plant one.
const VisitorCookieName = "__Host-keycard-csrf"

// visitorSuffix follows the session cookie's name in the visitor cookie's.
const visitorSuffix = "-csrf"

// visitorPurpose names the keys, derived from the Manager's, that bind
// visitor tokens to the visitor cookie.
const visitorPurpose = "keycard/csrf visitor v1"

// visitorLen is the length of the visitor cookie's value: 32 random bytes
// in base64url.
var visitorLen = b64.EncodedLen(secretSize)

// visitKey is the context key of a request's visit.
var visitKey = &struct{ name string }{"csrf visit"}

// A visit is what Handler leaves in a request's context for Token: the
// Protection, the session it was made for and the response, so that Token
// can bind a token to the visitor cookie and set that cookie. It embeds
// the request's context, with itself in it, as keycard's requestContext
// does, to cost one allocation.
type visit struct {
	context.Context
	p *Protection
	s *keycard.Session
	r *http.Request // as it came in, for the cookie's attributes
	w visitWriter

	cookie   *visitorCookie // shared with an enclosing Protection's visit
	started  bool           // the response has started: no more cookies (under cookie.mu)
	verified bool           // the request passed the token check, so its session is loaded (under cookie.mu)
}

// visitorCookie is a request's visitor cookie: the value it carried, or
// the one Token set in the response. Its mutex guards it and the fields
// of the visits that share it.
type visitorCookie struct {
	mu    sync.Mutex
	value string // "" until known
	fresh bool   // value was set in this response
	owner *visit // the outermost visit, whose Manager names and sets the cookie
}

// Value returns the visit for visitKey, else the parent's value.
func (v *visit) Value(key any) any {
	if key == visitKey {
		return v
	}
	return v.Context.Value(key)
}

// newVisit returns the visit of r through p, and the request and writer to
// pass on.
func (p *Protection) newVisit(w http.ResponseWriter, r *http.Request) (*visit, http.ResponseWriter, *http.Request) {
	v := &visit{p: p, s: keycard.FromContext(r.Context()), r: r}
	if outer, ok := r.Context().Value(visitKey).(*visit); ok {
		v.cookie = outer.cookie // one visitor cookie per response
	} else {
		v.cookie = &visitorCookie{owner: v}
		if value, n := cookieValue(r.Header, p.visitorName); n == 1 && validVisitor(value) {
			v.cookie.value = value
		}
	}
	v.Context = r.Context()
	v.w = visitWriter{ResponseWriter: w, v: v}
	return v, &v.w, r.WithContext(v)
}

// validVisitor reports whether value has the shape of a visitor cookie's
// value.
func validVisitor(value string) bool {
	if len(value) != visitorLen {
		return false
	}
	var raw [secretSize]byte
	n, err := b64.Decode(raw[:], []byte(value))
	return err == nil && n == secretSize
}

// visitorToken returns a token bound to the visitor cookie, setting a new
// cookie in the response if the request carried none. It returns "" when
// a new cookie is needed and the response has started.
func (v *visit) visitorToken() string {
	v.cookie.mu.Lock()
	defer v.cookie.mu.Unlock()
	c := v.cookie
	if c.value == "" {
		if v.started {
			return ""
		}
		var raw [secretSize]byte
		rand.Read(raw[:])
		c.value, c.fresh = b64.EncodeToString(raw[:]), true
		h := v.w.Header()
		h.Add("Set-Cookie", v.cookieLine(c.value))
		h.Set("Cache-Control", "no-store")
	}
	return mask(v.p.visitorMAC(0, c.value))
}

// cookieLine returns the Set-Cookie line of the visit's visitor cookie
// with value, or of its deletion when value is "". It is a browser-session
// cookie with the session cookie's attributes (Manager.CompanionCookie):
// HttpOnly, since no script needs it (tokens come from the page), and the
// session cookie's SameSite (Lax by default), so that a visitor who
// arrives from another site by a link keeps the cookie their open tabs'
// tokens are bound to.
func (v *visit) cookieLine(value string) string {
	o := v.cookie.owner
	return o.p.m.CompanionCookie(o.r, visitorSuffix, value).String()
}

// visitorMAC returns the binding of a visitor token to the visitor cookie
// value, under the Manager-derived key i (0, the newest, signs).
func (p *Protection) visitorMAC(i int, value string) []byte {
	m := hmac.New(sha256.New, p.visitorKeys[i])
	m.Write([]byte(value))
	return m.Sum(nil)
}

// verifyVisitor reports whether tok is a visitor token for the visitor
// cookie value, under any of the Manager's keys, so that tokens issued
// before a key rotation still verify.
func (p *Protection) verifyVisitor(value, tok string) bool {
	ok := false
	for i := range p.visitorKeys {
		if verify(p.visitorMAC(i, value), tok) {
			ok = true
		}
	}
	return ok
}

// start runs once, as the response starts: from then on no cookie can be
// set. A request that passed the token check with a visitor cookie, and
// whose session is now stored and signed in (the request logged in), gets
// its visitor cookie deleted, so that tokens issued to the visitor before
// the login do not outlive it. A login that failed to store its session
// leaves the cookie, so the visitor may try again with the same form.
func (v *visit) start() {
	v.cookie.mu.Lock()
	defer v.cookie.mu.Unlock()
	if v.started {
		return
	}
	v.started = true
	if v.verified && v.cookie.value != "" && v.s.Err() == nil && !v.s.IsNew() && v.s.UserID() != "" {
		v.w.Header().Add("Set-Cookie", v.cookieLine(""))
		v.cookie.value = ""
	}
}

// visitWriter marks the visit started before the response starts. It
// exposes the underlying writer through Unwrap, so http.ResponseController
// reaches every optional method of it.
type visitWriter struct {
	http.ResponseWriter
	v *visit
}

func (w *visitWriter) WriteHeader(code int) {
	w.v.start()
	w.ResponseWriter.WriteHeader(code)
}

func (w *visitWriter) Write(b []byte) (int, error) {
	w.v.start()
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps io.Copy's fast paths (sendfile) of the underlying writer.
func (w *visitWriter) ReadFrom(src io.Reader) (int64, error) {
	w.v.start()
	return io.Copy(w.ResponseWriter, src)
}

// Flush flushes the underlying writer, if it can.
func (w *visitWriter) Flush() {
	w.v.start()
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hijacks the underlying connection. It returns
// http.ErrNotSupported if the underlying writer cannot be hijacked.
func (w *visitWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.v.start()
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the underlying ResponseWriter, for http.ResponseController.
func (w *visitWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// cookieValue returns the value of the cookie named name in the request
// header h, and how many cookies carry that name. Names match exactly; the
// header is not otherwise parsed.
func cookieValue(h http.Header, name string) (value string, count int) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimLeft(part, " \t")
			k, v, ok := strings.Cut(part, "=")
			if ok && k == name {
				value = strings.TrimRight(v, " \t")
				count++
			}
		}
	}
	return value, count
}
