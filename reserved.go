package keycard

import "strings"

// Session keys that start with "keycard." are reserved for Keycard and
// the packages built on it; Session.Keys leaves them out, and applications
// should not use the prefix. Two parts of the namespace tie a value to
// something that changes, and Keycard treats every key in them alike:
//
//   - LoginScoped ("keycard.login."): the value belongs to one login, such
//     as an anti-forgery secret. Login and Renew delete it, so that nothing
//     issued before a privilege change works after it. Periodic rotation
//     keeps it: rotation changes no privilege.
//   - IDScoped ("keycard.id."): the value names the session by its current
//     ID's hash (Session.Info().Hash), such as the state of refresh tokens, whose
//     tokens carry that hash. Login and Renew delete it, and periodic
//     rotation (Config.RotateEvery) leaves a session that holds one on its
//     ID, since moving it would strand the value.
//
// Other reserved keys (flash messages, rotation markers) are Keycard's own.
const (
	LoginScoped = reservedPrefix + "login."
	IDScoped    = reservedPrefix + "id."
)

// reservedPrefix starts every reserved session key.
const reservedPrefix = "keycard."

// dropScoped deletes every value tied to the session's login or ID, as a
// change of ID requires. s.mu must be held and the session loaded.
func (s *Session) dropScoped() {
	var doomed []string
	env, _ := openEnvelope(s.rec.Data)
	if s.vals != nil {
		for k := range s.vals {
			if strings.HasPrefix(k, LoginScoped) || strings.HasPrefix(k, IDScoped) {
				doomed = append(doomed, k)
			}
		}
	} else {
		for {
			k, _, ok := env.next()
			if !ok {
				break
			}
			if key := string(k); strings.HasPrefix(key, LoginScoped) || strings.HasPrefix(key, IDScoped) {
				doomed = append(doomed, key)
			}
		}
	}
	for _, k := range doomed {
		s.delete(k)
	}
}

// holdsIDScoped reports whether the session holds a value under IDScoped.
// It reads the stored envelope without decoding it. s.mu must be held.
func (s *Session) holdsIDScoped() bool {
	if s.vals != nil {
		for k := range s.vals {
			if strings.HasPrefix(k, IDScoped) {
				return true
			}
		}
		return false
	}
	env, _ := openEnvelope(s.rec.Data)
	for {
		k, _, ok := env.next()
		if !ok {
			return false
		}
		if strings.HasPrefix(string(k), IDScoped) {
			return true
		}
	}
}
