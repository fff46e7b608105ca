// Package chikeycard is an example: Keycard in a chi application. It has nothing to
// import: chi middleware is func(http.Handler) http.Handler, exactly the
// shape of keycard.Manager.Handler and csrf.Protection.Handler, so both
// install with r.Use, on the router, a group or a single route (r.With),
// and handlers reach the session with keycard.FromContext:
//
//	m, err := keycard.New(keycard.Config{})
//	...
//	p, err := csrf.New(m, csrf.Config{})
//	...
//	r := chi.NewRouter()
//	r.Use(middleware.Recoverer, m.Handler, p.Handler)
//	r.Post("/login", func(w http.ResponseWriter, r *http.Request) {
//		// Check the user's password first; then:
//		if err := m.Login(r.Context(), keycard.FromContext(r.Context()), userID); err != nil {
//			http.Error(w, "try again", http.StatusServiceUnavailable)
//		}
//	})
//	r.Get("/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
//		s := keycard.FromContext(r.Context())
//		...
//	})
//	http.ListenAndServe(addr, r)
//
// The package exists for its example and its test, which run against chi
// itself; applications need only keycard and chi.
package chikeycard
