// Package oidc signs users in to a keycard session with an OpenID Connect
// provider, and ends their sessions when the provider says so.
//
// The seam between a provider's sign-in and an application's own session is
// where session security is most often lost: state and nonce kept in loose
// cookies, a session not regenerated after the callback, no way for the
// provider to end the session when the user logs out elsewhere. A Client
// covers it whole, on github.com/coreos/go-oidc/v3 and
// golang.org/x/oauth2:
//
//	rp, err := oidc.New(ctx, m, oidc.Config{
//		Issuer:                "https://accounts.example.com",
//		ClientID:              "shop",
//		ClientSecret:          secret,
//		RedirectURL:           "https://shop.example.com/login/oidc/callback",
//		PostLogoutRedirectURL: "https://shop.example.com/logged-out",
//		MapUser: func(ctx context.Context, in *oidc.SignIn) (oidc.User, error) {
//			id, err := users.LinkOrCreate(ctx, in.Issuer, in.Subject)
//			return oidc.User{ID: id}, err
//		},
//	})
//	...
//	app := http.NewServeMux() // served inside the Manager and csrf
//	app.Handle("GET /login/oidc", rp.SignInHandler())
//	app.Handle("GET /login/oidc/callback", rp.CallbackHandler())
//	app.Handle("POST /logout", rp.SignOutHandler())
//	app.Handle("GET /logged-out", rp.PostLogoutHandler())
//
//	root := http.NewServeMux() // provider-to-application requests
//	root.Handle("POST /oidc/backchannel-logout", rp.BackChannelLogout())
//	root.Handle("GET /oidc/frontchannel-logout", rp.FrontChannelLogout())
//	root.Handle("/", m.Handler(protect.Handler(app)))
//
// # Signing in
//
// SignIn (or SignInHandler) starts the authorization code flow with PKCE
// (S256). Its state, nonce and code verifier are 128 bits or more from
// crypto/rand, kept in the keycard session of the browser that started the
// flow, never in a cookie of their own or a URL the provider does not
// need: a callback from any other browser finds nothing to complete. They
// live in keycard's login-scoped reserved namespace (keycard.LoginScoped),
// which suits a sign-in in progress: periodic rotation keeps it, and the
// login that ends the flow, or any other login or renewal meanwhile,
// deletes it. A session keeps at most 4 sign-ins in progress (tabs), each
// for Config.FlowTimeout.
//
// Callback (or CallbackHandler) takes the pending sign-in out of the
// session with keycard.Update, a compare-and-set, so each state works once
// even when two instances receive the same callback; exchanges the code
// with its verifier; and verifies the ID token: its signature against the
// keys the provider publishes (with only the algorithms it announces, never
// "none"), issuer, audience and authorized party, expiry, issue time,
// nonce (in constant time), at_hash when present, and auth_time and acr
// when the sign-in asked for them (AuthOptions.MaxAge, ACRValues). A
// callback carrying an RFC 9207 "iss" parameter must name this issuer.
//
// Config.MapUser then maps the provider account to the application's user
// ID; Manager.Login gives the session a new ID (the defence against session
// fixation), keeping its data (an anonymous cart survives) unless it
// belonged to another user. The session records the Identity (issuer,
// subject, the provider's session ID "sid", auth_time, amr and acr), which
// IdentityOf returns, for later checks such as requiring a recent or a
// stronger authentication before a sensitive action, and the raw ID token,
// for the logout hint. Login and Renew drop both with the rest of
// keycard.LoginScoped; a session the application renews is no longer one
// the provider can end, so sign in again (with AuthOptions) rather than
// renew when privileges change.
//
// Return paths are same-site only: see ReturnPath.
//
// # Logout initiated by the provider
//
// BackChannelLogout and FrontChannelLogout end sessions when the provider
// says the user logged out: a session of one provider session (sid) or,
// for a back-channel logout token with only a subject, every session of
// that account signed in through this Client. Revoking a session ends its
// cookie and, with package token, its refresh tokens at once, since their
// state lives in the session. Both need the Manager to store sessions in a
// store with a user index (every store but memcached and sealed cookies):
// Callback records, under keyed hashes, which application users each
// provider session and account signed in as; a logout request lists those
// users' sessions and revokes the ones whose Identity matches.
//
// Both handlers authenticate the provider without any cookie, the
// back-channel one by the logout token's signature, so they are mounted
// outside the Manager's Handler and package csrf: exempt from CSRF
// protection by where they are, not by a bypass pattern. A logout token
// is verified like an ID token and must also be typed "logout+jwt", carry
// the back-channel event, a sub or sid and a jti, and no nonce, and be no
// older than Config.LogoutTokenMaxAge; its jti is remembered in the store
// for that long, so a replay fails on every instance. See
// BackChannelLogout and FrontChannelLogout.
//
// # Logout initiated by the application
//
// SignOut (or SignOutHandler, for POST inside csrf's Handler) logs the
// session out and sends the browser to the provider's end_session_endpoint
// with the ID token as id_token_hint, the client ID, the registered
// Config.PostLogoutRedirectURL and a state, which PostLogoutHandler checks
// before returning the browser to the path it was given.
//
// # Events
//
// Refused callbacks and logout requests are reported through Manager.Emit
// as EventRejected, and provider logouts as EventProviderLogout, into the
// same stream as keycard's own events. Neither carries a token, code,
// state or nonce.
package oidc
