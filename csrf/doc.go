// Package csrf defends the sessions of a keycard.Manager against cross-site
// request forgery (CSRF): a page on another site making the user's browser
// send a state-changing request that the browser authenticates with the
// user's session cookie, such as a hidden form that posts to /transfer or
// to /login with the attacker's credentials ("login CSRF").
//
// For most applications: create one Protection with New and install its
// Handler inside the Manager's Handler; put Token in every form as a hidden
// "csrf_token" field, and give scripts a token to send in an
// "X-CSRF-Token" header.
//
//	m, err := keycard.New(keycard.Config{})
//	...
//	p, err := csrf.New(m, csrf.Config{})
//	...
//	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) {
//		tmpl.Execute(w, map[string]any{"CSRFToken": csrf.Token(r)})
//		// <input type="hidden" name="csrf_token" value="{{.CSRFToken}}">
//	})
//	http.ListenAndServe(addr, m.Handler(p.Handler(mux)))
//
// Requests with safe methods (GET, HEAD, OPTIONS, TRACE) are never
// checked, so they must never change state: no logout, no purchase, no
// setting changed by a GET. Every other method is checked.
//
// # Two layers
//
// The origin check is the standard library's http.CrossOriginProtection.
// Browsers label every request with Sec-Fetch-Site (all of them since
// 2023); a request labelled cross-site or same-site is rejected unless its
// Origin is one of Config.TrustedOrigins, and one from an older browser,
// without that header, is rejected when its Origin does not name the
// request's Host. Requests with neither header (non-browser clients, and
// a few browser corner cases) pass this layer, as does an Origin that
// matches the Host with another scheme ("http://" for an HTTPS site),
// since the Host header carries no scheme.
//
// The token check covers those. An unsafe request must present a token
// from Token in the Config.HeaderName header or, for
// application/x-www-form-urlencoded and multipart/form-data bodies, in the
// Config.FieldName form field; the form is read up to Config.MaxFormBytes,
// and other bodies (JSON) are left unread. A token in the URL query is
// never accepted: URLs end up in logs, histories and Referer headers. The
// comparison is constant-time. A token is bound to one of two secrets
// (next section), and a request with neither accepts no token, so a forged
// POST from a browser that never loaded one of the site's pages fails, and
// so does login CSRF against a fresh visitor. JSON endpoints need the
// header, which a cross-site form cannot set; JSON sent cross-site as
// text/plain, a "simple" request that needs no CORS preflight, carries no
// token and is rejected.
//
// # Sessions and visitors
//
// A stored session has its own secret: 256 bits from crypto/rand, kept in
// the session itself under a reserved key scoped to the login
// (keycard.LoginScoped), never in a cookie of its own or a URL. Its
// tokens are synchronizer tokens.
//
// A visitor whose session is not stored has no session to keep a secret
// in, and storing one for every page view would let anyone fill the store
// by loading pages. Token stores nothing for them: it sets a cookie of
// this package's own, named the session cookie's name plus "-csrf"
// (VisitorCookieName, "__Host-keycard-csrf", by default), holding 256
// random bits, and binds the token to it with an HMAC-SHA-256 under a key
// the Manager derives from its Keys (keycard.Manager.DeriveKeys), in the
// spirit of OWASP's signed double-submit cookie. The cookie has the
// session cookie's attributes (keycard.Manager.CompanionCookie: Secure,
// HttpOnly, SameSite=Lax, Path "/", no Domain by default) and lasts the
// browser session; the default "__Host-" prefix makes browsers refuse one
// set by a sibling subdomain, by another path or over plain HTTP, which
// is what a signed double-submit cookie needs: an attacker who could
// plant their own cookie could pair it with a token of their own. A
// session cookie without the prefix (which Cookie.Domain and
// InsecureAllowHTTP need) gives the visitor cookie none either: then a
// sibling subdomain can plant a visitor cookie and a token of its own, and
// so make a visitor post a form (login CSRF). Keep the "__Host-" name in
// production. The request
// must carry exactly one such cookie. Tokens are signed with the newest
// key and verify under every key of the Manager, so a key rotation breaks
// no open form, and removing a key ends its tokens.
//
// A visitor token stays valid while the visitor keeps the cookie and
// their session is not signed in, stored or not. So the first form post
// after a page load never fails: not when another tab stored the session
// in between (adding to a cart), and not when the post is the login
// itself.
//
// Because the cookie follows the session cookie, a development server
// with keycard.Config.InsecureAllowHTTP on plain HTTP and pages embedded
// in another site's frames (Cookie.SameSite None) give visitors working
// tokens as they give them sessions.
//
// Every rejection gets the same 403 response (Config.ErrorHandler changes
// it) and emits an EventRejected through keycard.Manager.Emit, so it
// shows in the Manager's event stream and logs, with a reason code:
// ReasonCrossOrigin, ReasonMissingToken, ReasonNoSecret or ReasonBadToken.
// Events never carry a token, a secret or a visitor cookie.
//
// # Masked tokens (BREACH)
//
// Token returns a different string on every call: base64url(pad | pad XOR
// secret), with a fresh 32-byte random pad each time. An attacker who can
// inject text into a compressed HTTPS response and watch its size (the
// BREACH attack) learns a secret that repeats in every response byte by
// byte; a masked token never repeats, so there is nothing to learn. A
// visitor token masks the HMAC the same way, and the two kinds look
// alike. Every token of a session or visitor stays valid, so several open
// tabs and forms all work.
//
// # Login rotates tokens
//
// keycard.Manager.Login deletes the session's secret as it renews the
// session ID, and a visitor token is not accepted from a signed-in
// session; the response of a checked request that logged its session in
// also deletes the visitor cookie. So no token issued before login works
// after it: an attacker who planted a session (fixation), or read a token
// from a pre-login page, holds nothing useful afterwards, and a login
// form, the first post of a visitor, still works. Pages rendered after
// login carry new tokens. A form left open across a login (or across the
// end of its session) is rejected, with ReasonNoSecret, or ReasonBadToken
// once the session has a new secret; the application's ErrorHandler may
// ask the user to reload it. After a logout the visitor gets a new
// visitor cookie with their next form. Login CSRF needs a token bound to
// the victim's own cookie or session, which a cross-site page can neither
// read nor plant.
//
// # Requests that are not checked
//
// An API whose clients authenticate with a bearer token rather than the
// session cookie names its routes in Config.BearerRoutes. A request to
// such a route with an "Authorization: Bearer" header, and no live
// Keycard session from a cookie, passes both layers: it is authenticated
// by its bearer token, which a browser never attaches on its own. A
// cross-site page can make a browser send cookies, but it can set an
// Authorization header only from script, and only after a CORS preflight
// that the server approved, so such a request cannot be forged. When the
// request also carries a live session cookie, the cookie may be what
// authenticates it, and the checks apply as usual. Anywhere else a bearer
// header exempts nothing: the default Config names no bearer route, so a
// cookie form posted with "Authorization: Bearer x" is checked like any
// other.
//
// Sessions that travel in a request header rather than a cookie
// (keycard.Config.Header) cannot be forged either, for the same reason: a
// Manager with a header carrier (keycard.Manager.Header is not "") ignores
// cookies entirely, so every request through it passes both layers.
//
// AddInsecureBypassPattern exempts webhooks and other server-to-server
// endpoints by pattern, origin check and token alike. As its name says, it
// removes the protection: the handlers it covers must authenticate their
// callers by other means and must not act on the session cookie.
//
// # Concurrency
//
// The first Token call of a stored session stores its secret with
// keycard.Update, so pages of one session rendered at once all get tokens
// for the same secret. With keycard.Config.Sealed, concurrent requests of
// a session are last-write-wins, so of two pages that both created a
// secret at once only the later one's tokens work. Pages of one visitor
// rendered at once, before the browser holds a visitor cookie, each set
// one; the browser keeps the last, so only that page's tokens work (the
// others' posts are rejected, and work once reloaded).
package csrf
