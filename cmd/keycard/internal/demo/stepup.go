package demo

import (
	"fmt"
	"net/http"
	"time"

	"github.com/keycard-go/keycard"
)

// stepUpMaxAge is how recently a user must have signed in to log out
// everywhere or revoke another device.
const stepUpMaxAge = 5 * time.Minute

// stepUp returns the guard of the sensitive device actions: a sign-in
// within stepUpMaxAge, else the password form again (reauth).
func (a *App) stepUp() keycard.StepUp {
	return keycard.StepUp{MaxAge: stepUpMaxAge, Reauth: http.HandlerFunc(a.reauth)}
}

// reauth sends a signed-in user whose sign-in is too old to the sign-in
// page in re-authentication mode; keycard.StepUp has recorded the page to
// come back to.
func (a *App) reauth(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	if a.userOf(s.UserID()) == nil {
		redirect(w, r, "/login?next=/devices")
		return
	}
	if s.Info().Actor != "" {
		// No StepUp passes in an impersonation: the actor cannot prove
		// to be the user.
		s.Flash("Not while acting as another user: only the user, signed in recently, may sign out their devices.")
		redirect(w, r, "/devices")
		return
	}
	redirect(w, r, "/login?reauth=1")
}

// reauthMessage says why the sign-in page asks for the password again.
func (a *App) reauthMessage(s *keycard.Session) string {
	return fmt.Sprintf("Confirm your password: signing out other devices needs a sign-in within the last %s, and yours was %s.",
		human(stepUpMaxAge), ago(s.Info().AuthTime))
}

// relogin finishes a re-authentication: the password was right for the
// session's own user, so Login renews the session and restarts its
// authentication clock, and the user goes back to the page StepUp
// recorded.
func (a *App) relogin(w http.ResponseWriter, r *http.Request, s *keycard.Session, u *user) {
	if err := a.m.Login(r.Context(), s, u.ID); err != nil {
		a.fail(w, r, err)
		return
	}
	back := keycard.ReturnTo(s)
	if back == "" {
		back = "/"
	}
	s.Flash(fmt.Sprintf("Password confirmed, %s: sensitive actions are open to this session for %s.", u.Name, human(stepUpMaxAge)))
	redirect(w, r, back)
}
