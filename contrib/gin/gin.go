package ginkeycard

import (
	"bufio"
	"io"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/keycard-go/keycard"
)

// Middleware returns gin middleware that gives every request a keycard
// Session, as m.Handler does for net/http: Wrap(m.Handler).
func Middleware(m *keycard.Manager) gin.HandlerFunc {
	return Wrap(m.Handler)
}

// FromContext returns the request's Session. It panics if the request
// did not pass through Middleware, which is a programming error.
func FromContext(c *gin.Context) *keycard.Session {
	return keycard.FromContext(c.Request.Context())
}

// Wrap adapts net/http middleware, such as keycard.Manager.Handler or
// csrf.Protection.Handler, to gin. The rest of gin's chain runs as mw's
// next handler, with c.Request set to the request mw passes on (so values
// mw put in its context reach gin's handlers) and c.Writer writing through
// the writer mw passes on (so mw sees the response start). If mw answers
// by itself, without calling next, the rest of the chain is aborted.
func Wrap(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		outer := c.Writer
		called := false
		defer func() { c.Writer = outer }() // also when a handler panics
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called = true
			c.Request = r
			c.Writer = &responseWriter{ResponseWriter: outer, w: w}
			c.Next()
		})).ServeHTTP(outer, c.Request)
		if !called {
			c.Abort()
		}
	}
}

// responseWriter is gin's writer for the handlers inside a wrapped
// middleware. Writes go through w, the middleware's writer, which ends in
// gin's own writer (the embedded one); gin's bookkeeping (Status, Size,
// Written) and the rest of gin.ResponseWriter come from gin's writer.
type responseWriter struct {
	gin.ResponseWriter
	w http.ResponseWriter
}

var _ gin.ResponseWriter = (*responseWriter)(nil)

func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

func (rw *responseWriter) WriteHeader(code int) { rw.w.WriteHeader(code) }

func (rw *responseWriter) Write(b []byte) (int, error) { return rw.w.Write(b) }

func (rw *responseWriter) WriteString(s string) (int, error) { return io.WriteString(rw.w, s) }

// WriteHeaderNow sends the status gin recorded, through the middleware's
// writer so that it sees the response start.
func (rw *responseWriter) WriteHeaderNow() {
	if !rw.ResponseWriter.Written() {
		rw.w.WriteHeader(rw.ResponseWriter.Status())
		rw.ResponseWriter.WriteHeaderNow()
	}
}

func (rw *responseWriter) Flush() {
	rw.WriteHeaderNow()
	_ = http.NewResponseController(rw.w).Flush()
}

func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(rw.w).Hijack()
}

// Unwrap returns the middleware's writer, for http.ResponseController.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }
