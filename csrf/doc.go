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
// The token check covers those: it is the synchronizer-token pattern. Each
// session gets a 256-bit secret from crypto/rand, kept in the session
// itself under a reserved key scoped to the login (keycard.LoginScoped),
// never in a cookie of its own or a URL. Token derives a token from it, and an unsafe request must
// present one in the Config.HeaderName header or, for
// application/x-www-form-urlencoded and multipart/form-data bodies, in the
// Config.FieldName form field; the form is read up to Config.MaxFormBytes,
// and other bodies (JSON) are left unread. A token in the URL query is
// never accepted: URLs end up in logs, histories and Referer headers. The
// comparison is constant-time. A session without a secret accepts no
// token, so a forged POST from a browser that never loaded one of the
// site's pages fails, and so does login CSRF against a fresh visitor.
// JSON endpoints need the header, which a cross-site form cannot set;
// JSON sent cross-site as text/plain, a "simple" request that needs no
// CORS preflight, carries no token and is rejected.
//
// Every rejection gets the same 403 response (Config.ErrorHandler changes
// it) and emits an EventRejected through keycard.Manager.Emit, so it
// shows in the Manager's event stream and logs, with a reason code:
// ReasonCrossOrigin, ReasonMissingToken, ReasonNoSecret or ReasonBadToken.
// Events never carry a token or a secret.
//
// # Masked tokens (BREACH)
//
// Token returns a different string on every call: base64url(pad | pad XOR
// secret), with a fresh 32-byte random pad each time. An attacker who can
// inject text into a compressed HTTPS response and watch its size (the
// BREACH attack) learns a secret that repeats in every response byte by
// byte; a masked token never repeats, so there is nothing to learn. Every
// token of a session stays valid, so several open tabs and forms all work.
//
// # Login rotates tokens
//
// keycard.Manager.Login deletes the session's secret as it renews the
// session ID, so tokens issued before login stop working: an attacker who
// planted a session, or read a token from a pre-login page, holds nothing
// useful afterwards. Pages rendered after login carry new tokens. A form
// left open across a login (or across the end of its session) is rejected,
// with ReasonNoSecret, or ReasonBadToken once the session has a new
// secret; the application's ErrorHandler may ask the user to reload it.
//
// # Requests that are not checked
//
// A request with an "Authorization: Bearer" header, and no live Keycard
// session from a cookie, passes both layers: it is authenticated by its
// bearer token, which a browser never attaches on its own. A cross-site
// page can make a browser send cookies, but it can set an Authorization
// header only from script, and only after a CORS preflight that the server
// approved, so such a request cannot be forged. When the request also
// carries a live session cookie, the cookie may be what authenticates it,
// and the checks apply as usual.
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
// The first Token call of a session stores its secret with keycard.Update,
// so pages of one session rendered at once all get tokens for the same
// secret. With keycard.Config.Sealed, concurrent requests of a session are
// last-write-wins, so of two pages that both created a secret at once only
// the later one's tokens work.
package csrf
