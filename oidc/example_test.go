package oidc_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/oidc"
)

// Example wires a Client into an application: sign-in, callback and
// sign-out inside the Manager's and csrf's handlers; the provider's logout
// endpoints beside them, where no cookie or anti-forgery token is needed.
// It needs a provider to discover, so it is not run here; tests/oidc runs
// the same wiring against a real provider.
func Example() {
	ctx := context.Background()
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		panic(err)
	}
	protect, err := csrf.New(m, csrf.Config{})
	if err != nil {
		panic(err)
	}
	rp, err := oidc.New(ctx, m, oidc.Config{
		Issuer:                "https://accounts.example.com",
		ClientID:              "shop",
		ClientSecret:          "from the provider's console",
		RedirectURL:           "https://shop.example.com/login/oidc/callback",
		PostLogoutRedirectURL: "https://shop.example.com/logged-out",
		Scopes:                []string{"email"},
		MapUser: func(ctx context.Context, in *oidc.SignIn) (oidc.User, error) {
			// Find or create the account linked to (in.Issuer,
			// in.Subject); never match accounts by e-mail address.
			return oidc.User{ID: "user-42"}, nil
		},
	})
	if err != nil {
		panic(err)
	}

	app := http.NewServeMux()
	app.Handle("GET /login/oidc", rp.SignInHandler())
	app.Handle("GET /login/oidc/callback", rp.CallbackHandler())
	app.Handle("POST /logout", rp.SignOutHandler())
	app.Handle("GET /logged-out", rp.PostLogoutHandler())
	app.HandleFunc("GET /account", func(w http.ResponseWriter, r *http.Request) {
		if id, ok := oidc.IdentityOf(keycard.FromContext(r.Context())); ok {
			fmt.Fprintf(w, "signed in at %s on %v (acr %q)\n", id.Issuer, id.AuthTime, id.ACR)
		}
	})

	root := http.NewServeMux()
	root.Handle("POST /oidc/backchannel-logout", rp.BackChannelLogout())
	root.Handle("GET /oidc/frontchannel-logout", rp.FrontChannelLogout())
	root.Handle("/", m.Handler(protect.Handler(app)))
	http.ListenAndServe(":8443", root) // behind TLS
}

// ExampleReturnPath shows which return paths a sign-in or sign-out
// accepts: paths on this site only.
func ExampleReturnPath() {
	for _, p := range []string{
		"/cart?step=2",
		"https://evil.example/",
		"//evil.example",
		"/\\evil.example",
		"/%2e%2e/admin",
		"javascript:alert(1)",
	} {
		_, ok := oidc.ReturnPath(p)
		fmt.Printf("%-22q %v\n", p, ok)
	}
	// Output:
	// "/cart?step=2"         true
	// "https://evil.example/" false
	// "//evil.example"       false
	// "/\\evil.example"      false
	// "/%2e%2e/admin"        false
	// "javascript:alert(1)"  false
}
