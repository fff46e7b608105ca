package keycard

import (
	"net/http"
	"strings"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// cookieCarrier carries the signed session ID in the session cookie
// (Config.Cookie): the default carrier, and the one browsers need.
type cookieCarrier struct{ m *Manager }

func (c *cookieCarrier) presented(h http.Header) (string, int) {
	return cookieValue(h, c.m.cfg.Cookie.Name)
}

func (c *cookieCarrier) records(shared store.Store) store.Store { return shared }

func (c *cookieCarrier) open(_ store.Store, token string) (sessionID, string, event.Reason) {
	return c.m.ids.open(token)
}

func (c *cookieCarrier) write(h http.Header, s *Session, now time.Time) error {
	var value string
	if s.reply.token && !s.isNew {
		value = c.m.ids.sign(&s.id)
	}
	c.send(h, s, value, now)
	return nil
}

func (c *cookieCarrier) token(s *Session) (string, error) { return c.m.ids.token(s) }

func (c *cookieCarrier) reissues() bool { return true }

// send sets the cookie to value, or expires it when s.reply asks and value
// is "", then resets s.reply.
func (c *cookieCarrier) send(h http.Header, s *Session, value string, now time.Time) {
	switch {
	case value != "":
		var expires time.Time
		if s.rec.Persistent || c.m.cfg.Cookie.Persist {
			expires = s.rec.Deadline
		}
		c.setCookie(h, s.r, value, expires, now)
	case s.reply.clear:
		c.setCookie(h, s.r, "", time.Time{}, now)
	}
	if s.reply.clearSite {
		h.Set("Clear-Site-Data", `"cookies"`)
	}
	s.reply = reply{}
}

// cookieValue returns the value of the cookie named name in the request
// header h, and how many cookies carry that name. Names match exactly
// (case-sensitively); the header is not otherwise parsed or copied.
func cookieValue(h http.Header, name string) (value string, count int) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(trimLeadingBlanks(part), "=")
			if ok && k == name {
				value = trimTrailingBlanks(v)
				count++
			}
		}
	}
	return value, count
}

// trimLeadingBlanks returns s without its leading spaces and tabs.
func trimLeadingBlanks(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// trimTrailingBlanks returns s without its trailing spaces and tabs.
func trimTrailingBlanks(s string) string {
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// setCookie adds a Set-Cookie header for the session cookie to h. An empty
// value expires the cookie. expires is the cookie's expiry for persistent
// cookies, or zero for a browser-session cookie.
func (c *cookieCarrier) setCookie(h http.Header, r *http.Request, value string, expires time.Time, now time.Time) {
	hc := c.m.cookieFor(r, c.m.cfg.Cookie.Name, value)
	switch {
	case value == "":
		hc.MaxAge = -1
		hc.Expires = time.Unix(1, 0)
	case !expires.IsZero():
		age := min(expires.Sub(now), maxCookieLifetime)
		hc.MaxAge = max(1, int(age.Round(time.Second)/time.Second))
		hc.Expires = now.Add(time.Duration(hc.MaxAge) * time.Second).UTC()
	}
	h.Add("Set-Cookie", hc.String())
	h.Set("Cache-Control", `no-store`)
}

// secure reports whether the cookie gets the Secure attribute.
func (m *Manager) secure(r *http.Request) bool {
	if !m.cfg.InsecureAllowHTTP || r == nil || r.TLS != nil {
		return true
	}
	return m.fromTrustedProxy(r) && strings.EqualFold(strings.TrimSpace(lastCSV(r.Header.Get("X-Forwarded-Proto"))), "https")
}

// cookieFor returns a cookie named name holding value, with the session
// cookie's attributes for r.
func (m *Manager) cookieFor(r *http.Request, name, value string) http.Cookie {
	cfg := &m.cfg.Cookie
	return http.Cookie{
		Name:        name,
		Value:       value,
		Path:        cfg.Path,
		Domain:      cfg.Domain,
		Secure:      m.secure(r),
		HttpOnly:    true,
		SameSite:    cfg.SameSite,
		Partitioned: cfg.Partitioned,
	}
}

// CompanionCookie returns a browser-session cookie named the session
// cookie's name plus suffix, holding value (or deleting the cookie when
// value is ""), with the session cookie's attributes for r: Path, Domain,
// SameSite, Partitioned, HttpOnly, and Secure as InsecureAllowHTTP decides
// (a nil r counts as HTTPS). Packages built on a Manager use it for
// cookies of their own, such as csrf's visitor cookie, so that they follow
// the Manager's configuration; a "__Host-" prefix carries over, and with
// it the browser's rules for it.
func (m *Manager) CompanionCookie(r *http.Request, suffix, value string) *http.Cookie {
	c := m.cookieFor(r, m.cfg.Cookie.Name+suffix, value)
	if value == "" {
		c.MaxAge = -1
	}
	return &c
}
