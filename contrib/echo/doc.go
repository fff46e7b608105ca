// Package echokeycard runs Keycard sessions in Echo (v5) applications. It
// is its own Go module, so Keycard users who do not use Echo never
// download it.
//
// Install Middleware on the server or a group, and reach the request's
// session with FromContext:
//
//	m, err := keycard.New(keycard.Config{})
//	...
//	e := echo.New()
//	e.Use(middleware.Recover(), echokeycard.Middleware(m))
//	e.POST("/login", func(c *echo.Context) error {
//		// Check the user's password first; then:
//		if err := m.Login(c.Request().Context(), echokeycard.FromContext(c), userID); err != nil {
//			return err
//		}
//		return c.Redirect(http.StatusSeeOther, "/")
//	})
//	e.GET("/", func(c *echo.Context) error {
//		theme, _ := keycard.Get[string](echokeycard.FromContext(c), "theme")
//		return c.String(http.StatusOK, "theme: "+theme)
//	})
//
// # How it fits Echo
//
// Keycard's middleware is plain net/http, and Middleware runs the rest of
// Echo's chain inside it (see Wrap),
// with c.Request() carrying the session and c.Response() writing through
// it, so whatever writes first (c.JSON, c.String, c.NoContent, a flush)
// saves the session first. A handler that returns an error without
// writing has its session saved when it returns, and Echo's error handler
// then writes its response with the session's cookie. If the store fails,
// Keycard's Config.ErrorHandler answers (503 by default) and later writes,
// the error handler's included, are discarded.
//
// Install middleware.Recover before (outside) Middleware. A panic then
// unwinds past the session, which is not saved, and Recover's 500 goes
// out directly. Recover installed after Middleware turns the panic into
// an error that Middleware sees as the handler's result, and the
// session's changes up to the panic are saved.
//
// Other net/http middleware, such as package csrf's, installs with Wrap
// (or echo.WrapMiddleware); one that answers by itself, as csrf does with
// a 403, ends the chain:
//
//	p, err := csrf.New(m, csrf.Config{})
//	...
//	e.Use(middleware.Recover(), echokeycard.Middleware(m), echokeycard.Wrap(p.Handler))
//
// Echo v4, supported by its maintainers until the end of 2026, has no
// adapter here: use e.Use(echo.WrapMiddleware(m.Handler)) and
// keycard.FromContext(c.Request().Context()). echo.WrapMiddleware leaves
// the session's writer in place after a panic, so Recover's 500 then
// saves the changes the handler made before it panicked.
package echokeycard
