// Package e2e holds Keycard's browser end-to-end tests. They build the
// keycard command, run its demo web app ("keycard demo") as a child process,
// and drive it with headless Chromium through the Chrome DevTools Protocol
// (github.com/chromedp/chromedp). The package has no code of its own; the
// tests are in its _test.go files.
//
// # What the tests cover
//
//   - TestAnonymousCart: an anonymous visitor's cart survives page loads;
//     another browser starts with an empty one.
//   - TestLoginRenewsSessionKeepsCart: signing in changes the session
//     cookie's value and keeps the cart; the pre-login cookie, replayed
//     from another browser, opens nothing (session fixation).
//   - TestSessionCookieAttributes: the cookie as Chromium stores it:
//     __Host-keycard, HttpOnly (document.cookie cannot see it), Secure,
//     SameSite=Lax, Path=/, host-only (no Domain attribute on the wire
//     either), a browser-session cookie without remember-me, and one that
//     expires about 30 days out with it. A visitor's sign-in page stores no
//     session, only the CSRF visitor cookie (the same attributes), which
//     the first sign-in post deletes.
//   - TestDevicesRevokeOtherBrowser: Alice, signed in on two browsers,
//     revokes one from the other's devices page; its next page load is
//     anonymous.
//   - TestDevicesLogOutEverywhere: "Log out everywhere" signs out both of
//     Alice's browsers and her API tokens, and none of Bob's.
//   - TestLivePageEndsWhenRevokedElsewhere: Alice's browser A opens the
//     live devices page, whose server-sent events stream lists her
//     sessions; B revokes A's session; the server closes A's stream
//     (keycard's Manager.Watch) and A's page shows it signed out without a
//     reload, within the step's time limit and no sleep.
//   - TestImpersonationMarker: the support user acts as Alice; every page
//     shows "Acting as Alice Liddell on behalf of Sam Support", whose End
//     button restores the support user's own session.
//   - TestOpenIDConnectSignInAndBackChannelLogout: a visitor with a cart
//     signs in with OpenID Connect through the demo provider's login page
//     and lands on the shop as Alice, on a new session ID, with the cart
//     kept; the provider's back-channel logout signs the browser out.
//   - TestCrossOriginFormRefused: a page on another origin auto-submits a
//     form to the demo in the signed-in victim's browser, cross-site (from
//     127.0.0.2) and same-site (another port of 127.0.0.1, where Chromium
//     sends the SameSite=Lax cookie); the demo answers 403 and the
//     victim's cookie, sign-in and cart are unchanged.
//   - TestTokenRefreshReuse: the JSON token API (with Go's HTTP client: it
//     takes bearer tokens, not cookies): a token pair, /api/me, a refresh,
//     the old refresh token accepted again within the 10-second grace
//     window and, after it, refused as reuse, which revokes the session
//     and its tokens, as the devices page shows.
//
// Each test saves full-page screenshots (1024 pixels wide) of the states it
// checks.
//
// # Running them
//
// From the repository, in workspace mode (the module of these tests does not
// require the keycard command; the repository's go.work provides it):
//
//	go test -race -count=1 ./tests/e2e/...
//
// They need Debian's Chromium at /usr/bin/chromium (apt-get install
// chromium). Without it they are skipped, except when CI=true, where they
// fail. The keycard binary is built once per run, with -race when the tests
// run with it, so that a data race in the demo fails the test that caused
// it. Each test starts its own demo, on a free port of 127.0.0.1 with a new
// data directory, and stops it by PID; each browser is its own Chromium
// process with a new, empty profile directory (its own cookie jar, as a
// separate device would have). Every wait has a time limit: 15 seconds a
// browser step, 90 seconds a browser, 20 seconds for the demo to listen.
// All traffic stays on 127.0.0.1 and 127.0.0.2. The whole run takes under a
// minute on two cores with a warm build cache; the tests run in parallel,
// two at a time by default.
//
// Screenshots go to a temporary directory. With KEYCARD_SCREENSHOTS=1 they
// go to docs/screenshots instead, replacing the committed set:
//
//	KEYCARD_SCREENSHOTS=1 go test -count=1 ./tests/e2e/...
//
// # Chromium's flags
//
// The tests start Chromium with:
//
//	--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
//	--disable-background-networking --disable-component-update --disable-sync
//	--user-data-dir=<a new, empty directory>
//
// --no-sandbox because the tests may run as root, as in CI containers, where
// Chromium's sandbox refuses to start; --disable-gpu as there is no GPU.
// --disable-background-networking, --disable-component-update and
// --disable-sync stop Chromium from calling Google's servers on its own:
// on a machine without Internet access those connections are refused, and
// they slow the browser down and clutter its logs. --disable-quic keeps
// every connection on TCP. A new profile directory per browser means no
// cookie, cache or HSTS entry carries over from one test to another. The
// other flags (no proxy, no extensions, a mock keychain, hidden scroll
// bars) keep Chromium quiet and the screenshots steady.
//
// Over plain HTTP, Chromium stores the demo's __Host- Secure cookies because
// 127.0.0.1 is a loopback address, which browsers treat as a secure context.
package e2e
