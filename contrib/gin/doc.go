// Package ginkeycard runs Keycard sessions in gin applications. It is its
// own Go module, so Keycard users who do not use gin never download it.
//
// Install Middleware on the engine or a route group, and reach the
// request's session with FromContext:
//
//	m, err := keycard.New(keycard.Config{})
//	...
//	r := gin.New()
//	r.Use(gin.Recovery(), ginkeycard.Middleware(m))
//	r.POST("/login", func(c *gin.Context) {
//		// Check the user's password first; then:
//		if err := m.Login(c.Request.Context(), ginkeycard.FromContext(c), userID); err != nil {
//			c.AbortWithStatus(http.StatusServiceUnavailable)
//			return
//		}
//		c.Redirect(http.StatusSeeOther, "/")
//	})
//	r.GET("/", func(c *gin.Context) {
//		theme, _ := keycard.Get[string](ginkeycard.FromContext(c), "theme")
//		c.String(http.StatusOK, "theme: %s", theme)
//	})
//
// Pass c.Request.Context() to Login, Logout and Update: it ends with the
// request, and a *gin.Context does so only with gin's ContextWithFallback.
//
// # How it fits gin
//
// Keycard's middleware is plain net/http: it saves the session just
// before the response starts, so that its cookie can still be set. Wrap
// runs the rest of gin's chain inside such a middleware, with c.Request
// carrying the session and c.Writer routed through it, so whatever writes
// first (c.JSON, c.String, c.Redirect, c.Status, c.Writer.Flush, a
// hijack) saves the session first, and a handler that writes nothing has
// its session saved before gin sends the empty response. As in net/http,
// setting the status (c.Status, which gin only records) counts as
// starting the response: change the session before it.
//
// Install gin.Recovery before (outside) Middleware, as above. A panic then
// unwinds past the session, which is not saved, and Recovery's 500 goes
// out directly; Recovery installed after Middleware would answer through
// the session and save the changes made before the panic.
//
// Wrap adapts any net/http middleware, such as package csrf's:
//
//	p, err := csrf.New(m, csrf.Config{})
//	...
//	r.Use(gin.Recovery(), ginkeycard.Middleware(m), ginkeycard.Wrap(p.Handler))
//	r.GET("/form", func(c *gin.Context) {
//		c.HTML(http.StatusOK, "form.html", gin.H{"csrf": csrf.Token(c.Request)})
//	})
//
// A middleware that answers by itself, as csrf does with a 403, aborts
// the rest of the chain.
package ginkeycard
