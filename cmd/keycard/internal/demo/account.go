package demo

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keycard-go/keycard"
)

type loginData struct {
	Users    []*user
	Next     string
	Username string
	Remember bool
	Reauth   bool // re-authentication of the signed-in user (StepUp)
	OIDC     bool // offer "Sign in with OpenID Connect"
}

func (a *App) loginData(next string) loginData {
	d := loginData{Next: localPath(next), OIDC: a.rp != nil}
	for _, u := range Users {
		d.Users = append(d.Users, a.users[u.ID])
	}
	return d
}

func (a *App) loginPage(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	v := a.newView(r, s, "Sign in", "login")
	d := a.loginData(r.URL.Query().Get("next"))
	if u := a.userOf(s.UserID()); u != nil && r.URL.Query().Get("reauth") != "" && s.Info().Actor == "" {
		d.Reauth, d.Username = true, u.ID
		v.Flashes = append(v.Flashes, a.reauthMessage(s))
	} else if d.Next != "/" {
		// Sent here by requireUser: say why, without storing a flash
		// message (and so a session) for a visitor.
		v.Flashes = append(v.Flashes, "Sign in to see that page.")
	}
	v.Data = d
	a.render(w, r, http.StatusOK, "login", v)
}

// signIn checks a name and password against the demo accounts and the
// failure limits. It returns the user, or how long the client must wait,
// or the limiter's error (its store failed).
func (a *App) signIn(r *http.Request, name, password string) (*user, time.Duration, error) {
	ctx := r.Context()
	account := strings.ToLower(strings.TrimSpace(name))
	if wait, err := a.logins.Check(ctx, account, r); err != nil || wait > 0 {
		return nil, wait, err
	}
	u := a.authenticate(name, password)
	if u == nil {
		wait, err := a.logins.Fail(ctx, account, r)
		return nil, wait, err
	}
	a.logins.Succeed(ctx, account, r)
	return u, 0, nil
}

func retryAfter(wait time.Duration) string {
	return strconv.Itoa(int(math.Ceil(wait.Seconds())))
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	name, password := r.PostFormValue("username"), r.PostFormValue("password")
	remember := r.PostFormValue("remember") != ""
	// A re-authentication is for the session's own user, whatever name
	// was posted.
	current := a.userOf(s.UserID())
	reauth := r.PostFormValue("reauth") != "" && current != nil && s.Info().Actor == ""
	if reauth {
		name = current.ID
	}
	u, wait, err := a.signIn(r, name, password)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if u == nil {
		v := a.newView(r, s, "Sign in", "login")
		d := a.loginData(r.PostFormValue("next"))
		d.Username, d.Remember, d.Reauth = name, remember, reauth
		v.Data = d
		code := http.StatusUnauthorized
		v.Error = "Wrong user name or password."
		if wait > 0 {
			code = http.StatusTooManyRequests
			w.Header().Set("Retry-After", retryAfter(wait))
			v.Error = fmt.Sprintf("Too many failed sign-ins. Try again in %s.", human(wait.Round(time.Second)))
		}
		a.render(w, r, code, "login", v)
		return
	}
	if reauth {
		a.relogin(w, r, s, u)
		return
	}

	before := s.Info().Hash
	_, items, _ := cartOf(s)
	// RememberMe before Login, so that the one write of Login stores both.
	if err := a.m.RememberMe(s, remember); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.m.Login(r.Context(), s, u.ID); err != nil {
		a.fail(w, r, err)
		return
	}
	from := "a new session"
	if before != "" {
		from = "session " + short(before) + "…"
	}
	msg := fmt.Sprintf("Welcome, %s. Signing in moved you from %s to session %s…: a new ID, so a planted or stolen one is useless now.", u.Name, from, short(s.Info().Hash))
	switch items {
	case 0:
	case 1:
		msg += " Your cart kept its 1 item."
	default:
		msg += fmt.Sprintf(" Your cart kept its %d items.", items)
	}
	if remember {
		msg += " This browser will remember you for up to 30 days."
	}
	s.Flash(msg)
	redirect(w, r, localPath(r.PostFormValue("next")))
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	if err := a.m.Logout(r.Context(), s); err != nil {
		a.fail(w, r, err)
		return
	}
	s.Flash("Signed out. The session is deleted on the server, not just forgotten by the browser.")
	redirect(w, r, "/")
}

// requireUser returns the signed-in user, or sends the visitor to the
// sign-in page and returns nil.
func (a *App) requireUser(w http.ResponseWriter, r *http.Request, s *keycard.Session) *user {
	if err := s.Err(); err != nil {
		return nil // the Manager answers with its error handler
	}
	if u := a.userOf(s.UserID()); u != nil {
		return u
	}
	// No flash message: it would store a session for every anonymous
	// visit of the page. The sign-in page says why from next.
	redirect(w, r, "/login?next="+r.URL.Path)
	return nil
}

type profileData struct {
	Created, LastSeen, IdleDeadline, Deadline, AuthTime time.Time
	Remembered                                          bool
	Hash                                                string
	RotateEvery                                         time.Duration
	CookieName                                          string
	Impersonate                                         *impersonationData // for a support user
}

func (a *App) profile(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	u := a.requireUser(w, r, s)
	if u == nil {
		return
	}
	v := a.newView(r, s, "Profile", "profile")
	info := s.Info()
	v.Data = profileData{
		Created: info.Created, LastSeen: info.LastSeen, IdleDeadline: info.IdleDeadline,
		Deadline: info.Deadline, AuthTime: info.AuthTime, Remembered: info.Remembered,
		Hash: info.Hash, RotateEvery: rotateEvery, CookieName: CookieName,
		Impersonate: a.impersonationForm(u, s),
	}
	a.render(w, r, http.StatusOK, "profile", v)
}

func (a *App) renew(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	if a.requireUser(w, r, s) == nil {
		return
	}
	before := s.Info().Hash
	if err := a.m.Renew(r.Context(), s); err != nil {
		a.fail(w, r, err)
		return
	}
	s.Flash(fmt.Sprintf("New session ID: %s… → %s…. Data, sign-in and deadlines are unchanged.", short(before), short(s.Info().Hash)))
	redirect(w, r, "/profile")
}

type devicesData struct {
	Sessions []keycard.SessionInfo
	Current  string
	Max      int
}

func (a *App) devices(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	u := a.requireUser(w, r, s)
	if u == nil {
		return
	}
	infos, err := a.m.Sessions(r.Context(), u.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	slices.SortFunc(infos, func(x, y keycard.SessionInfo) int {
		return cmp.Or(y.LastSeen.Compare(x.LastSeen), strings.Compare(x.Hash, y.Hash))
	})
	v := a.newView(r, s, "Devices", "devices")
	v.Data = devicesData{Sessions: infos, Current: s.Info().Hash, Max: maxSessionsPerUser}
	a.render(w, r, http.StatusOK, "devices", v)
}

func (a *App) revoke(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	u := a.requireUser(w, r, s)
	if u == nil {
		return
	}
	hash := r.PostFormValue("session")
	infos, err := a.m.Sessions(r.Context(), u.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	find := func(hash string) int {
		return slices.IndexFunc(infos, func(in keycard.SessionInfo) bool { return in.Hash == hash })
	}
	i := find(hash)
	if i < 0 {
		// The page may predate a rotation of that session: its hash then
		// still leads to the session, for a few seconds.
		if cur, err := a.m.OpenByHash(r.Context(), hash); err == nil && cur.UserID() == u.ID {
			hash = cur.Info().Hash
			i = find(hash)
		}
	}
	switch {
	case i < 0:
		s.Flash("That session had already ended.")
		redirect(w, r, "/devices")
		return
	case hash == s.Info().Hash:
		a.logout(w, r)
		return
	}
	// Signing out another device needs a recent sign-in.
	a.stepUp().Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.Revoke(r.Context(), hash); err != nil {
			a.fail(w, r, err)
			return
		}
		s.Flash(fmt.Sprintf("Signed out %s (session %s…). Its next request starts anonymous.", device(infos[i].UserAgent), short(hash)))
		redirect(w, r, "/devices")
	})).ServeHTTP(w, r)
}

func (a *App) revokeAll(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	u := a.requireUser(w, r, s)
	if u == nil {
		return
	}
	// This session first, so that the request goes on with a fresh one
	// that can carry the message.
	if err := a.m.Logout(r.Context(), s); err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.m.RevokeUser(r.Context(), u.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	s.Flash(fmt.Sprintf("Signed out everywhere: this browser and %d other session(s) of %s, API tokens included.", n, u.Name))
	redirect(w, r, "/")
}
