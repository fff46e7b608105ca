// Package keycard manages sessions for Go web services: it keeps a user's
// state across stateless HTTP requests, securely, on one machine or many.
//
// For most applications: create one Manager with New, wrap your handler
// with Manager.Handler, and reach the request's Session with FromContext.
// Call Manager.Login when a user signs in and Manager.Logout when they sign
// out.
//
//	m, err := keycard.New(keycard.Config{})
//	...
//	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
//		s := keycard.FromContext(r.Context())
//		n, _ := keycard.Update(r.Context(), s, "items", func(n int) int { return n + 1 })
//		fmt.Fprintf(w, "%d items\n", n)
//	})
//	http.ListenAndServe(addr, m.Handler(mux))
//
// # Security defaults
//
// The zero Config is safe for production. The cookie is "__Host-keycard":
// HttpOnly, Secure, SameSite=Lax, Path=/, no Domain, and a browser-session
// cookie unless the session is remembered. A session ID is 256 bits from
// crypto/rand; the cookie carries it with an HMAC-SHA256 tag under a key
// ring, so a forged or tampered cookie is refused before any store call, and
// keys rotate without logging anyone out. Stores only ever see the SHA-256
// of an ID, so a leaked store dump yields no usable session. An ID the
// server does not know is never adopted (no session fixation): the client
// gets a fresh session. Idle (30 minutes) and absolute (8 hours) timeouts are
// enforced on the server on every request, not by the cookie's expiry.
//
// # Keys
//
// Config.Keys sign the cookies. Without them a Manager signs with a random
// key of its own, and a restart signs everyone out. Keep the keys in a key
// file, made by "keycard keys new" and read with LoadKeys (or with
// KeysFromEnv from an environment variable), so that restarts and every
// instance share them:
//
//	keys, err := keycard.LoadKeys("app.keys") // mode 0600, or refused
//	...
//	m, err := keycard.New(keycard.Config{Store: st, Keys: keys.Session})
//
// # Concurrency and conflicts
//
// Requests of one session may run at once, on one instance or several. A
// Session records which keys a request changed; stores save with
// compare-and-set on a version, and when another request saved first, the
// Manager reloads the record and re-applies only this request's changes, so
// two requests writing different keys both succeed. Update performs an
// atomic read-modify-write of one key (counters, carts).
//
// # Cost
//
// A request that does not touch its session costs nothing. Reading a
// session costs one store round trip and no write; nothing is written
// unless something changed, and activity that only extends the idle
// deadline is recorded at most once per tenth of the idle timeout.
//
// # Choosing a store
//
// The default store, [github.com/keycard-go/keycard/store/memory], suits a
// single instance whose sessions may be lost on restart. Any type that
// implements [store.Store] and passes
// [github.com/keycard-go/keycard/store/storetest] can take its place.
//
// # Events
//
// Every lifecycle step and every refused credential is an event.Event,
// passed to Config.OnEvent and logged with log/slog; package event names
// the kinds and reasons. Events and logs name sessions by a prefix of their
// hash, never by ID.
package keycard
