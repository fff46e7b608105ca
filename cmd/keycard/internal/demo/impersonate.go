package demo

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/keycard-go/keycard"
)

// impersonateFor caps an impersonation: past it, the impersonated session
// ends and the support user signs in again.
const impersonateFor = 15 * time.Minute

// impersonate lets a support user act as another demo user
// (Manager.Impersonate): the support user's own session is set aside and
// a new session of the other user, marked with the actor, takes its place
// until the support user ends it. Keycard logs the start and the end
// (event.Impersonation, at warning level).
func (a *App) impersonate(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	actor := a.requireUser(w, r, s)
	if actor == nil {
		return
	}
	target := a.userOf(r.PostFormValue("user"))
	switch {
	case !actor.Support || s.Info().Actor != "":
		http.Error(w, "Only a support user, in their own session, may act as another user.", http.StatusForbidden)
		return
	case target == nil || target.Support:
		s.Flash("There is no such customer to act as.")
		redirect(w, r, "/profile")
		return
	}
	if err := a.m.Impersonate(r.Context(), s, target.ID, impersonateFor); err != nil {
		a.fail(w, r, err)
		return
	}
	s.Flash(fmt.Sprintf("%s, you are acting as %s, for %s at most. Your own session waits; \"End\" in the banner brings it back.",
		actor.Name, target.Name, human(impersonateFor)))
	redirect(w, r, "/")
}

// endImpersonation ends the impersonation and restores the support
// user's own session (Manager.EndImpersonation).
func (a *App) endImpersonation(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	as, actor := a.userOf(s.UserID()), a.userOf(s.Info().Actor)
	err := a.m.EndImpersonation(r.Context(), s)
	switch {
	case errors.Is(err, keycard.ErrNotImpersonating):
		redirect(w, r, "/")
	case errors.Is(err, keycard.ErrSessionGone):
		s.Flash("The impersonation ended, and so had your own session meanwhile: sign in again.")
		redirect(w, r, "/login")
	case err != nil:
		a.fail(w, r, err)
	default:
		s.Flash(fmt.Sprintf("Stopped acting as %s. Welcome back to your own session, %s.", nameOf(as), nameOf(actor)))
		redirect(w, r, "/profile")
	}
}

// nameOf returns u's name, or "?" for nil.
func nameOf(u *user) string {
	if u == nil {
		return "?"
	}
	return u.Name
}

// impersonationData is the profile page's form for a support user.
type impersonationData struct {
	Customers []*user
	For       string
}

// impersonationForm returns the form's data for the actor u, or nil when
// u may not act as anyone from session s.
func (a *App) impersonationForm(u *user, s *keycard.Session) *impersonationData {
	if !u.Support || s.Info().Actor != "" {
		return nil
	}
	d := &impersonationData{For: human(impersonateFor)}
	for _, c := range Users {
		if !c.Support {
			d.Customers = append(d.Customers, a.users[c.ID])
		}
	}
	return d
}
