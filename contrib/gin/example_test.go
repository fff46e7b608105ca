package ginkeycard_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	"github.com/keycard-go/keycard"
	ginkeycard "github.com/keycard-go/keycard/contrib/gin"
)

// Example serves a gin application with Keycard sessions: a cart that
// survives signing in, a counter, and logout.
func Example() {
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		panic(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), ginkeycard.Middleware(m))
	r.POST("/cart", func(c *gin.Context) {
		keycard.Update(c.Request.Context(), ginkeycard.FromContext(c), "cart",
			func(items []string) []string { return append(items, c.Query("item")) })
	})
	r.POST("/login", func(c *gin.Context) {
		// Check the user's password first; then:
		if err := m.Login(c.Request.Context(), ginkeycard.FromContext(c), "alice"); err != nil {
			c.AbortWithStatus(http.StatusServiceUnavailable)
		}
	})
	r.POST("/visit", func(c *gin.Context) {
		n, _ := keycard.Update(c.Request.Context(), ginkeycard.FromContext(c), "visits",
			func(n int) int { return n + 1 })
		c.String(http.StatusOK, "visit %d", n)
	})
	r.GET("/me", func(c *gin.Context) {
		s := ginkeycard.FromContext(c)
		cart, _ := keycard.Get[[]string](s, "cart")
		c.JSON(http.StatusOK, gin.H{"user": s.UserID(), "cart": cart})
	})
	r.POST("/logout", func(c *gin.Context) {
		m.Logout(c.Request.Context(), ginkeycard.FromContext(c))
		c.Redirect(http.StatusSeeOther, "/me")
	})
	ts := httptest.NewTLSServer(r)
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
			fmt.Printf("%s %s: %s\n", method, path, body)
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
