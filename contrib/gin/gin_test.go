package ginkeycard_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/keycard-go/keycard"
	ginkeycard "github.com/keycard-go/keycard/contrib/gin"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/internal/adaptertest"
)

func init() { gin.SetMode(gin.TestMode) }

// routes is the gin engine with Keycard and csrf middleware and the routes
// adaptertest.RunFlows drives.
func routes(a *adaptertest.App) http.Handler {
	r := gin.New()
	r.Use(gin.Recovery(), ginkeycard.Middleware(a.Manager))

	r.POST("/cart", func(c *gin.Context) {
		items, err := keycard.Update(c.Request.Context(), ginkeycard.FromContext(c), "cart",
			func(items []string) []string { return append(items, c.Query("item")) })
		if err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.String(http.StatusOK, "%d", len(items))
	})
	r.POST("/login", func(c *gin.Context) {
		s := ginkeycard.FromContext(c)
		if err := a.Manager.Login(c.Request.Context(), s, c.Query("user")); err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"user": s.UserID()})
	})
	r.GET("/me", func(c *gin.Context) {
		c.String(http.StatusOK, "%s", adaptertest.Me(ginkeycard.FromContext(c)))
	})
	r.POST("/visit", func(c *gin.Context) {
		n, err := keycard.Update(c.Request.Context(), ginkeycard.FromContext(c), "visits",
			func(n int) int { return n + 1 })
		if err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.String(http.StatusOK, "%d", n)
	})
	r.POST("/logout", func(c *gin.Context) {
		a.Manager.Logout(c.Request.Context(), ginkeycard.FromContext(c))
		c.Status(http.StatusNoContent)
	})
	r.POST("/silent", func(c *gin.Context) {
		ginkeycard.FromContext(c).Put("theme", "dark") // and no response at all
	})
	r.POST("/created", func(c *gin.Context) {
		ginkeycard.FromContext(c).Put("theme", "dark")
		c.Status(http.StatusCreated)
	})
	r.GET("/stream", func(c *gin.Context) {
		ginkeycard.FromContext(c).Put("theme", "dark")
		c.Stream(func(w io.Writer) bool {
			fmt.Fprint(w, "chunk")
			return false
		})
	})
	r.POST("/fail", func(c *gin.Context) {
		ginkeycard.FromContext(c).Put("theme", "dark")
		c.AbortWithError(http.StatusTeapot, errors.New("no coffee"))
	})
	r.POST("/late", func(c *gin.Context) {
		c.String(http.StatusOK, "too early")
		a.LateErr <- ginkeycard.FromContext(c).Put("theme", "dark")
	})
	r.POST("/panic", func(c *gin.Context) {
		ginkeycard.FromContext(c).Put("theme", "dark")
		panic("handler bug")
	})

	// CSRF through gin: only the routes of this group are protected.
	protected := r.Group("/", ginkeycard.Wrap(a.CSRF.Handler))
	protected.GET("/form", func(c *gin.Context) {
		c.String(http.StatusOK, csrf.Token(c.Request))
	})
	protected.POST("/transfer", func(c *gin.Context) {
		a.Transfers.Add(1)
		c.String(http.StatusOK, "done")
	})
	return r
}

// TestFlows runs the checks every adapter passes through a gin engine.
func TestFlows(t *testing.T) {
	t.Parallel()
	adaptertest.RunFlows(t, adaptertest.Adapter{
		Name:     "gin",
		Recovery: "gin.Recovery",
		FailBody: "", // AbortWithError writes the status only
		Routes:   routes,
	})
}

// TestRecoveryPlacement pins what the package doc says about where
// gin.Recovery goes.
func TestRecoveryPlacement(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		chain     func(*keycard.Manager) []gin.HandlerFunc
		wantSaved bool
	}{
		{"Recovery outside the session saves nothing", func(m *keycard.Manager) []gin.HandlerFunc {
			return []gin.HandlerFunc{gin.Recovery(), ginkeycard.Middleware(m)}
		}, false},
		{"Recovery inside the session saves the changes", func(m *keycard.Manager) []gin.HandlerFunc {
			return []gin.HandlerFunc{ginkeycard.Middleware(m), gin.Recovery()}
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, _ := keycard.New(keycard.Config{})
			r := gin.New()
			r.Use(c.chain(m)...)
			r.POST("/panic", func(c *gin.Context) {
				ginkeycard.FromContext(c).Put("theme", "dark")
				panic("handler bug")
			})
			adaptertest.CheckPanic(t, r, c.wantSaved)
		})
	}
}
