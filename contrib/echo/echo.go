package echokeycard

import (
	"net/http"

	"github.com/keycard-go/keycard"
	"github.com/labstack/echo/v5"
)

// Middleware returns Echo middleware that gives every request a keycard
// Session, as m.Handler does for net/http: Wrap(m.Handler).
func Middleware(m *keycard.Manager) echo.MiddlewareFunc {
	return Wrap(m.Handler)
}

// FromContext returns the request's Session. It panics if the request
// did not pass through Middleware, which is a programming error.
func FromContext(c *echo.Context) *keycard.Session {
	return keycard.FromContext(c.Request().Context())
}

// Wrap adapts net/http middleware, such as keycard.Manager.Handler or
// csrf.Protection.Handler, to Echo, as echo.WrapMiddleware does: the rest
// of the chain runs as mw's next handler, with c.Request() set to the
// request mw passes on and c.Response() writing through the writer mw
// passes on. Unlike echo.WrapMiddleware, Wrap gives c back its own
// response when the chain returns or panics, so that what outer
// middleware writes afterwards (middleware.Recover's 500 after a panic)
// does not pass through mw: a panicking handler's session changes are
// never saved.
func Wrap(mw func(http.Handler) http.Handler) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) (err error) {
			req, resp := c.Request(), c.Response()
			req.Pattern = c.Path()
			for _, p := range c.PathValues() {
				req.SetPathValue(p.Name, p.Value)
			}
			defer c.SetResponse(resp)
			mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.SetRequest(r)
				c.SetResponse(echo.NewResponse(w, c.Logger()))
				err = next(c)
			})).ServeHTTP(resp, req)
			return err
		}
	}
}
