package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/oidc"
)

// OIDC configures the demo's "Sign in with OpenID Connect".
type OIDC struct {
	// Issuer, ClientID and ClientSecret are the provider's and the demo's
	// registration there; the registered redirect URI is
	// Config.Origin+"/oidc/callback", and the back-channel logout URI
	// Config.Origin+"/oidc/backchannel-logout".
	Issuer, ClientID, ClientSecret string
	// Users maps the provider's subjects to demo user IDs. A subject not
	// in it cannot sign in.
	Users map[string]string
}

// newOIDC returns the OpenID Connect client of the demo, or nil if
// Config.OIDC is nil. It fetches the provider's discovery document.
func (a *App) newOIDC() (*oidc.Client, error) {
	o := a.cfg.OIDC
	if o == nil {
		return nil, nil
	}
	return oidc.New(context.Background(), a.m, oidc.Config{
		Issuer:       o.Issuer,
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret,
		RedirectURL:  a.cfg.Origin + "/oidc/callback",
		MapUser: func(ctx context.Context, in *oidc.SignIn) (oidc.User, error) {
			if id := o.Users[in.Subject]; a.userOf(id) != nil && in.Issuer == o.Issuer {
				return oidc.User{ID: id}, nil
			}
			return oidc.User{}, errors.New("demo: the provider's account is not a demo user")
		},
		ErrorHandler: a.oidcRefused,
	})
}

// oidcCallback completes a sign-in with OpenID Connect: a new session ID,
// the cart kept, as with a password.
func (a *App) oidcCallback(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	before := s.Info().Hash
	_, items, _ := cartOf(s)
	res, err := a.rp.Callback(w, r)
	if err != nil {
		a.oidcRefused(w, r, err)
		return
	}
	u := a.userOf(res.UserID)
	from := "a new session"
	if before != "" {
		from = "session " + short(before) + "…"
	}
	msg := fmt.Sprintf("Welcome, %s: signed in with OpenID Connect (%s). Signing in moved you from %s to session %s….",
		u.Name, res.Identity.Issuer, from, short(s.Info().Hash))
	if items > 0 {
		msg += fmt.Sprintf(" Your cart kept its %d item(s).", items)
	}
	s.Flash(msg)
	redirect(w, r, res.ReturnTo)
}

// oidcRefused answers a refused sign-in with the sign-in page.
func (a *App) oidcRefused(w http.ResponseWriter, r *http.Request, err error) {
	a.log.WarnContext(r.Context(), "keycard demo: OpenID Connect sign-in refused", "err", err)
	s := keycard.FromContext(r.Context())
	v := a.newView(r, s, "Sign in", "login")
	v.Data = a.loginData("/")
	v.Error = "Sign-in with OpenID Connect was refused. Try again."
	a.render(w, r, http.StatusBadRequest, "login", v)
}
