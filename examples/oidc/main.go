// Command oidc signs users in with an OpenID Connect provider, and ends
// their sessions when the provider says so (the README's example).
package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/oidc"
)

func main() {
	ctx := context.Background()
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		log.Fatal(err)
	}
	protect, err := csrf.New(m, csrf.Config{})
	if err != nil {
		log.Fatal(err)
	}
	rp, err := oidc.New(ctx, m, oidc.Config{
		Issuer:       "https://accounts.example.com",
		ClientID:     "shop",
		ClientSecret: os.Getenv("OIDC_CLIENT_SECRET"),
		RedirectURL:  "https://shop.example.com/login/oidc/callback",
		MapUser: func(ctx context.Context, in *oidc.SignIn) (oidc.User, error) {
			// Find or create the account linked to (in.Issuer, in.Subject);
			// never match accounts by e-mail address.
			return oidc.User{ID: "user-42"}, nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	app := http.NewServeMux()
	app.Handle("GET /login/oidc", rp.SignInHandler())
	app.Handle("GET /login/oidc/callback", rp.CallbackHandler())
	app.Handle("POST /logout", rp.SignOutHandler())

	root := http.NewServeMux() // the provider's calls need no cookie and no CSRF token
	root.Handle("POST /oidc/backchannel-logout", rp.BackChannelLogout())
	root.Handle("/", m.Handler(protect.Handler(app)))
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", root)) // behind a TLS proxy
}
