package keycard

import (
	"net/http"
	"strings"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
)

// headerCarrier carries the signed session ID in a request header
// (Config.Header), for clients that are not browsers. A new token goes out
// in the response header of the same name, except for Authorization,
// where the request carries "Bearer TOKEN" and the application hands out
// Manager.Token in the response body.
type headerCarrier struct {
	m      *Manager
	name   string // canonical header name
	bearer bool   // name is Authorization: the Bearer scheme, no response header
}

func (c *headerCarrier) presented(h http.Header) (string, int) {
	vals := h.Values(c.name)
	if len(vals) == 0 {
		return "", 0
	}
	token := strings.TrimSpace(vals[0])
	if c.bearer {
		scheme, rest, ok := strings.Cut(token, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", 0 // another scheme: not ours
		}
		token = strings.TrimSpace(rest)
	}
	return token, len(vals)
}

func (c *headerCarrier) records(shared store.Store) store.Store { return shared }

func (c *headerCarrier) open(_ store.Store, token string) (sessionID, string, event.Reason) {
	return c.m.ids.open(token)
}

func (c *headerCarrier) write(h http.Header, s *Session, _ time.Time) error {
	if s.reply.token && !s.isNew && !c.bearer {
		h.Set(c.name, c.m.ids.sign(&s.id))
		h.Set("Cache-Control", "no-store")
	}
	s.reply = reply{}
	return nil
}

func (c *headerCarrier) token(s *Session) (string, error) { return c.m.ids.token(s) }

func (c *headerCarrier) reissues() bool { return !c.bearer }
