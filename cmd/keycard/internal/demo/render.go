package demo

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// staticFiles serves the stylesheet and icon, outside any session.
func staticFiles() http.Handler {
	files := http.FileServerFS(staticFS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// page is one parsed page template, with the layout.
type page struct{ t *template.Template }

var funcs = template.FuncMap{
	"short":  short,
	"when":   when,
	"ago":    ago,
	"stamp":  stamp,
	"device": device,
	"money":  func(cents int) string { return fmt.Sprintf("€%d.%02d", cents/100, cents%100) },
}

func parsePages() (map[string]*page, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*page{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		pages[name] = &page{t}
	}
	return pages, nil
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string // the active navigation entry
	User    *user  // the signed-in user, or nil
	Actor   *user  // who acts as User (an impersonation), or nil
	Hash    string // the browser session's hash, or "" before it is stored
	Flashes []string
	Error   string // an inline error message
	CSRF    string // the anti-forgery token of the page's session
	NavCSRF string // the token of the browser session, for the sign-out form
	Store   string
	Origin  string
	Data    any
}

// newView prepares a page for the session s of the request: its user,
// pending flash messages and a CSRF token. It must run before the
// response starts, since the token may store a new session.
func (a *App) newView(r *http.Request, s *keycard.Session, title, nav string) *view {
	mainReq := mainRequest(r)
	main := keycard.FromContext(mainReq.Context())
	v := &view{Title: title, Nav: nav, Store: a.cfg.StoreName, Origin: a.cfg.Origin}
	v.User, v.Actor = a.userOf(main.UserID()), a.userOf(main.Info().Actor)
	v.Flashes = s.Flashes()
	v.CSRF = csrf.Token(r)
	if v.User != nil {
		v.NavCSRF = csrf.Token(mainReq)
	}
	v.Hash = main.Info().Hash
	return v
}

// render writes the page with status code. Pages are personal: never
// stored by any cache.
func (a *App) render(w http.ResponseWriter, r *http.Request, code int, name string, v *view) {
	var buf bytes.Buffer
	if err := a.pages[name].t.Execute(&buf, v); err != nil {
		a.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// forbidden is the CSRF rejection page. It shows the visitor as they
// still are (a refused form changes nothing, sign-in included); the
// sign-out form on it carries a fresh token of the browser session.
func (a *App) forbidden(w http.ResponseWriter, r *http.Request, err error) {
	v := &view{Title: "Form refused", Store: a.cfg.StoreName}
	if main := keycard.FromContext(mainRequest(r).Context()); main.Err() == nil {
		v.User, v.Actor, v.Hash = a.userOf(main.UserID()), a.userOf(main.Info().Actor), main.Info().Hash
		if v.User != nil {
			v.NavCSRF = csrf.Token(mainRequest(r))
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusForbidden)
	a.pages["forbidden"].t.Execute(w, v)
}

// when formats a time for people: the clock time and how far from now.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return stamp(t) + " (" + ago(t) + ")"
}

// ago says how far t is from now: "3 min ago", "in 7 days".
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Until(t)
	switch {
	case d > -time.Second && d < time.Second:
		return "just now"
	case d < 0:
		return human(-d) + " ago"
	}
	return "in " + human(d)
}

// stamp formats t as a local date and time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// human formats a duration roughly, rounded to its largest unit.
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second).Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute).Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Round(time.Hour).Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Round(24*time.Hour).Hours()/24))
}

// device names a user agent briefly: "Firefox on Linux", "curl".
func device(ua string) string {
	if ua == "" {
		return "unknown client"
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome", "Headless Chrome"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go client"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	osName := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			osName = o.name
			break
		}
	}
	switch {
	case browser == "":
		name, _, _ := strings.Cut(ua, " ")
		if len(name) > 32 {
			name = name[:32] + "…"
		}
		return name
	case osName == "":
		return browser
	}
	return browser + " on " + osName
}
