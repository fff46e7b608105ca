package keycard

import (
	"net/http"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/internal/sealed"
	"github.com/keycard-go/keycard/store"
)

// A carrier moves a session between client and server: it finds the token
// a request presents, turns it into the session it names, and writes what
// the client must hold after the response. New picks one from the Config;
// nothing else in the package asks which one it is.
//
//   - cookieCarrier: a signed session ID in a cookie (the default);
//   - headerCarrier: the same signed ID in a request header (Config.Header);
//   - sealedCarrier: the whole session, sealed, in a cookie (Config.Sealed).
type carrier interface {
	// presented returns the token a request carries, and how many values
	// carry one (more than one is refused).
	presented(h http.Header) (token string, count int)

	// records returns the store that a request's session reads and
	// writes: shared, the Manager's, or one of the request's own.
	records(shared store.Store) store.Store

	// open checks a presented token and returns the ID of the session it
	// names and the ID's store key, priming st (from records) where the
	// token holds the session itself; or the reason (an event.Reason) it
	// is refused. It makes no store call.
	open(st store.Store, token string) (id sessionID, key string, reason event.Reason)

	// write puts into h what the client must hold after this response, as
	// s.reply says, and resets s.reply. It runs once, just before the
	// response starts, with s.mu held.
	write(h http.Header, s *Session, now time.Time) error

	// token returns the token a client presents for s, for Manager.Token:
	// ErrNoToken while s has no ID to hand out (not stored yet, or opened
	// by hash), store.ErrUnsupported from a carrier with no token of its own.
	// s.mu is held and s is loaded.
	token(s *Session) (string, error)

	// reissues reports whether a response can hand the client a new token,
	// as rotation needs.
	reissues() bool
}

// reply is what the client must receive with the response.
type reply struct {
	token     bool // the session's current token: a new ID, or a resealed session
	clear     bool // expire the token the client holds
	clearSite bool // also ask the browser to clear its cookies (Logout)
}

// newCarrier returns the carrier that cfg asks for, with keys derived
// from secrets where it needs its own. The Manager's signer and cookie
// configuration must be set.
func (m *Manager) newCarrier(cfg *Config, secrets [][]byte) (carrier, error) {
	cookie := &cookieCarrier{m: m}
	switch {
	case cfg.Sealed:
		box, err := sealed.New("session cookie v1", secrets)
		if err != nil {
			return nil, err
		}
		return &sealedCarrier{cookie: cookie, box: box}, nil
	case cfg.Header != "":
		name := http.CanonicalHeaderKey(cfg.Header)
		return &headerCarrier{m: m, name: name, bearer: name == "Authorization"}, nil
	}
	return cookie, nil
}
