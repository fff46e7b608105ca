package echokeycard_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/keycard-go/keycard"
	echokeycard "github.com/keycard-go/keycard/contrib/echo"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/internal/adaptertest"
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

// routes is the Echo server with Keycard and csrf middleware and the
// routes adaptertest.RunFlows drives.
func routes(a *adaptertest.App) http.Handler {
	e := echo.New()
	e.Use(middleware.Recover(), echokeycard.Middleware(a.Manager))

	e.POST("/cart", func(c *echo.Context) error {
		items, err := keycard.Update(c.Request().Context(), echokeycard.FromContext(c), "cart",
			func(items []string) []string { return append(items, c.QueryParam("item")) })
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprint(len(items)))
	})
	e.POST("/login", func(c *echo.Context) error {
		s := echokeycard.FromContext(c)
		if err := a.Manager.Login(c.Request().Context(), s, c.QueryParam("user")); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"user": s.UserID()})
	})
	e.GET("/me", func(c *echo.Context) error {
		return c.String(http.StatusOK, adaptertest.Me(echokeycard.FromContext(c)))
	})
	e.POST("/visit", func(c *echo.Context) error {
		n, err := keycard.Update(c.Request().Context(), echokeycard.FromContext(c), "visits",
			func(n int) int { return n + 1 })
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprint(n))
	})
	e.POST("/logout", func(c *echo.Context) error {
		if err := a.Manager.Logout(c.Request().Context(), echokeycard.FromContext(c)); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	e.POST("/silent", func(c *echo.Context) error {
		return echokeycard.FromContext(c).Put("theme", "dark") // and no response at all
	})
	e.POST("/created", func(c *echo.Context) error {
		echokeycard.FromContext(c).Put("theme", "dark")
		return c.NoContent(http.StatusCreated)
	})
	e.GET("/stream", func(c *echo.Context) error {
		echokeycard.FromContext(c).Put("theme", "dark")
		fmt.Fprint(c.Response(), "chunk")
		return http.NewResponseController(c.Response()).Flush()
	})
	e.POST("/fail", func(c *echo.Context) error {
		echokeycard.FromContext(c).Put("theme", "dark")
		return echo.NewHTTPError(http.StatusTeapot, "no coffee")
	})
	e.POST("/late", func(c *echo.Context) error {
		err := c.String(http.StatusOK, "too early")
		a.LateErr <- echokeycard.FromContext(c).Put("theme", "dark")
		return err
	})
	e.POST("/panic", func(c *echo.Context) error {
		echokeycard.FromContext(c).Put("theme", "dark")
		panic("handler bug")
	})

	// CSRF through Echo: only the routes of this group are protected.
	protected := e.Group("", echokeycard.Wrap(a.CSRF.Handler))
	protected.GET("/form", func(c *echo.Context) error {
		return c.String(http.StatusOK, csrf.Token(c.Request()))
	})
	protected.POST("/transfer", func(c *echo.Context) error {
		a.Transfers.Add(1)
		return c.String(http.StatusOK, "done")
	})
	return e
}

// TestFlows runs the checks every adapter passes through an Echo server.
func TestFlows(t *testing.T) {
	t.Parallel()
	adaptertest.RunFlows(t, adaptertest.Adapter{
		Name:     "Echo",
		Recovery: "middleware.Recover",
		FailBody: `{"message":"no coffee"}`, // Echo's error handler renders the HTTPError
		Routes:   routes,
	})
}

// TestWrapMiddlewareSavesAPanickingHandler pins the behaviour of
// echo.WrapMiddleware that Wrap avoids, as the package doc describes.
func TestWrapMiddlewareSavesAPanickingHandler(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		mw        func(*keycard.Manager) echo.MiddlewareFunc
		wantSaved bool
	}{
		{"echokeycard.Middleware saves nothing", echokeycard.Middleware, false},
		{"echo.WrapMiddleware saves the changes", func(m *keycard.Manager) echo.MiddlewareFunc {
			return echo.WrapMiddleware(m.Handler)
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, _ := keycard.New(keycard.Config{})
			e := echo.New()
			e.Use(middleware.Recover(), c.mw(m))
			e.POST("/panic", func(c *echo.Context) error {
				echokeycard.FromContext(c).Put("theme", "dark")
				panic("handler bug")
			})
			adaptertest.CheckPanic(t, e, c.wantSaved)
		})
	}
}
