package keycard

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

type contextKey struct{ name string }

func (k *contextKey) String() string { return "keycard context key " + k.name }

var sessionKey = &contextKey{"session"}

// Handler is the middleware that gives every request a Session. The session
// is loaded from the store only when the handler first uses it, and saved
// (if it changed) just before the response starts, so the cookie can still
// be set: on the first WriteHeader, Write, Flush or Hijack, or when the
// handler returns. Changes a handler makes after that to a stored session
// are saved when it returns.
//
// If the session cannot be loaded or saved (the store is down), the
// handler's response is replaced by Config.ErrorHandler's, which by default
// answers 503: a store failure never silently becomes an anonymous session.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.newSession(r)
		if s.cookies > 0 && m.rejects != nil && m.rejects.blocked(hostOf(m.ClientIP(r)), time.Now()) {
			w.Header().Set("Retry-After", "60")
			http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
			return
		}
		s.rctx = requestContext{r.Context(), s}
		r = r.WithContext(&s.rctx)
		s.r, s.ctx = r, r.Context()
		s.w = responseWriter{ResponseWriter: w, s: s}
		next.ServeHTTP(&s.w, r)
		if s.w.start() {
			s.finish()
		}
		if r.MultipartForm != nil {
			// net/http removes the temporary files of the request it made,
			// not of this copy, which is the one handlers parsed.
			r.MultipartForm.RemoveAll()
		}
	})
}

// requestContext is a request's context with its Session in it: what
// context.WithValue would make, but kept inside the Session, so that it
// costs no allocation of its own.
type requestContext struct {
	context.Context
	s *Session
}

// Value returns the Session for sessionKey, else the parent's value.
func (c *requestContext) Value(key any) any {
	if key == sessionKey {
		return c.s
	}
	return c.Context.Value(key)
}

// FromContext returns the request's Session. It panics if ctx does not come
// from a request served through Manager.Handler, which is a programming
// error.
func FromContext(ctx context.Context) *Session {
	s, ok := ctx.Value(sessionKey).(*Session)
	if !ok {
		panic("keycard: no session in context; is the handler wrapped with Manager.Handler?")
	}
	return s
}

// errSessionFailed is returned by Write once the session failed to save
// and the error handler has answered instead.
var errSessionFailed = errors.New("keycard: session unavailable; response replaced by the error handler")

// responseWriter commits the session before the response starts. It
// exposes the underlying writer through Unwrap, so http.ResponseController
// reaches every optional method of it.
type responseWriter struct {
	http.ResponseWriter
	s       *Session
	started bool
	failed  bool
}

// start commits the session once and reports whether the handler's
// response may proceed.
func (w *responseWriter) start() bool {
	if w.started {
		return !w.failed
	}
	w.started = true
	if err := w.s.commit(w.ResponseWriter.Header()); err != nil {
		w.failed = true
		w.s.m.cfg.ErrorHandler(w.ResponseWriter, w.s.r, err)
	}
	return !w.failed
}

func (w *responseWriter) WriteHeader(code int) {
	if w.start() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.start() {
		return 0, errSessionFailed
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps io.Copy's fast paths (sendfile) of the underlying writer.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.start() {
		return 0, errSessionFailed
	}
	return io.Copy(w.ResponseWriter, src)
}

// Flush commits the session and flushes the underlying writer, if it can.
func (w *responseWriter) Flush() {
	if w.start() {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Hijack commits the session and hijacks the underlying connection. It
// returns http.ErrNotSupported if the underlying writer cannot be hijacked.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.start() {
		return nil, nil, errSessionFailed
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the underlying ResponseWriter, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
