package csrf

import (
	"fmt"
	"net/http"
)

// patternMarker marks the patterns of AddInsecureBypassPattern and
// Config.BearerRoutes in their muxes. It is never served.
type patternMarker struct{}

func (*patternMarker) ServeHTTP(http.ResponseWriter, *http.Request) {}

// AddInsecureBypassPattern exempts the requests that match pattern from
// every check of this package, origin and token alike: for webhooks and
// other endpoints called by servers, which authenticate requests in their
// own way (a signature over the body, say). A handler under such a pattern
// must not rely on the session cookie, since any web page can make a
// browser send requests to it.
//
// The pattern syntax and precedence are those of http.ServeMux. Only
// requests that match the pattern directly are exempt; those the mux would
// redirect to it (to add a trailing slash or clean the path) are not, the
// rule Go 1.25.1 adopted for http.CrossOriginProtection after
// CVE-2025-47910. Protection decides this itself, so the rule holds even
// when built with Go 1.25.0.
//
// AddInsecureBypassPattern panics, as http.ServeMux.Handle does, if the
// pattern is invalid or conflicts with one already added. It may be called
// concurrently with request handling and applies to later requests.
func (p *Protection) AddInsecureBypassPattern(pattern string) {
	p.bypass.Handle(pattern, &patternMarker{})
	p.hasBypass.Store(true)
}

// bypassed reports whether r matches a bypass pattern directly.
func (p *Protection) bypassed(r *http.Request) bool {
	return p.hasBypass.Load() && matches(p.bypass, r)
}

// bearerRoute reports whether r matches a pattern of Config.BearerRoutes
// directly.
func (p *Protection) bearerRoute(r *http.Request) bool {
	return p.bearer != nil && matches(p.bearer, r)
}

// matches reports whether r matches a pattern of mux directly: not one
// the mux would redirect r to (to add a trailing slash or clean the
// path), the rule Go 1.25.1 adopted for http.CrossOriginProtection after
// CVE-2025-47910.
func matches(mux *http.ServeMux, r *http.Request) bool {
	h, _ := mux.Handler(r)
	_, ok := h.(*patternMarker)
	return ok
}

// addPattern adds pattern to mux, and returns as an error the panic of an
// invalid or conflicting one.
func addPattern(mux *http.ServeMux, pattern string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	mux.Handle(pattern, &patternMarker{})
	return nil
}
