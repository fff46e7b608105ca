package echokeycard_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/keycard-go/keycard"
	echokeycard "github.com/keycard-go/keycard/contrib/echo"
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

// Example serves an Echo application with Keycard sessions: a cart that
// survives signing in, a counter, and logout.
func Example() {
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		panic(err)
	}
	e := echo.New()
	e.Use(middleware.Recover(), echokeycard.Middleware(m))
	e.POST("/cart", func(c *echo.Context) error {
		_, err := keycard.Update(c.Request().Context(), echokeycard.FromContext(c), "cart",
			func(items []string) []string { return append(items, c.QueryParam("item")) })
		return err
	})
	e.POST("/login", func(c *echo.Context) error {
		// Check the user's password first; then:
		return m.Login(c.Request().Context(), echokeycard.FromContext(c), "alice")
	})
	e.POST("/visit", func(c *echo.Context) error {
		n, err := keycard.Update(c.Request().Context(), echokeycard.FromContext(c), "visits",
			func(n int) int { return n + 1 })
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprintf("visit %d", n))
	})
	e.GET("/me", func(c *echo.Context) error {
		s := echokeycard.FromContext(c)
		cart, _ := keycard.Get[[]string](s, "cart")
		return c.JSON(http.StatusOK, map[string]any{"user": s.UserID(), "cart": cart})
	})
	e.POST("/logout", func(c *echo.Context) error {
		if err := m.Logout(c.Request().Context(), echokeycard.FromContext(c)); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/me")
	})
	ts := httptest.NewTLSServer(e)
	defer ts.Close()

	client := ts.Client()
	client.Jar, _ = cookiejar.New(nil)
	do := func(method, path string) {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		res, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if len(body) > 0 {
			fmt.Printf("%s %s: %s", method, path, body)
			if body[len(body)-1] != '\n' {
				fmt.Println()
			}
		}
	}
	do("POST", "/cart?item=book")
	do("POST", "/login")
	do("POST", "/visit")
	do("POST", "/visit")
	do("GET", "/me")
	do("POST", "/logout") // follows the redirect
	// Output:
	// POST /visit: visit 1
	// POST /visit: visit 2
	// GET /me: {"cart":["book"],"user":"alice"}
	// POST /logout: {"cart":null,"user":""}
}
