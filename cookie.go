package keycard

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/keycard-go/keycard/internal/keyring"
)

// A session ID is idSize random bytes. A cookie carries it as
// base64url(version | key ID | ID | HMAC-SHA256 tag), where the tag covers
// the cookie name and the ID under the newest key of the key ring.
const (
	idSize         = 32
	tokenVersion   = 1
	tagSize        = sha256.Size
	tokenRawSize   = 1 + keyring.KeyIDSize + idSize + tagSize
	tokenEncodedSz = (tokenRawSize*8 + 5) / 6
)

var b64 = base64.RawURLEncoding.Strict()

// sessionID is a raw session ID. It never leaves the process except inside
// a signed cookie value.
type sessionID [idSize]byte

// hash returns the store key of id: lowercase hex SHA-256.
func (id *sessionID) hash() string {
	sum := sha256.Sum256(id[:])
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

// encodeToken returns the signed cookie value for id.
func (m *Manager) encodeToken(id *sessionID) string {
	var raw [tokenRawSize]byte
	raw[0] = tokenVersion
	kid := m.ring.SignID()
	copy(raw[1:], kid[:])
	copy(raw[1+keyring.KeyIDSize:], id[:])
	copy(raw[1+keyring.KeyIDSize+idSize:], m.ring.Sign(nil, m.macCtx, id[:]))
	return b64.EncodeToString(raw[:])
}

// Reasons a presented token is rejected before any store call.
const (
	reasonMalformed = "malformed"
	reasonBadMAC    = "bad-mac"
	reasonDuplicate = "duplicate-cookie"
)

// decodeToken checks a presented cookie value and returns its ID, or the
// reason it is rejected. It does no store call and no allocation.
func (m *Manager) decodeToken(v string) (sessionID, string) {
	var id sessionID
	if len(v) != tokenEncodedSz {
		return id, reasonMalformed
	}
	var src [tokenEncodedSz]byte
	var raw [tokenRawSize]byte
	copy(src[:], v)
	if n, err := b64.Decode(raw[:], src[:]); err != nil || n != tokenRawSize || raw[0] != tokenVersion {
		return id, reasonMalformed
	}
	var kid [keyring.KeyIDSize]byte
	copy(kid[:], raw[1:])
	copy(id[:], raw[1+keyring.KeyIDSize:])
	if !m.ring.Verify(kid, raw[1+keyring.KeyIDSize+idSize:], m.macCtx, id[:]) {
		return sessionID{}, reasonBadMAC
	}
	return id, ""
}

// cookieValue returns the value of the cookie named name in the request
// header h, and how many cookies carry that name. Names match exactly
// (case-sensitively); the header is not otherwise parsed or copied.
func cookieValue(h http.Header, name string) (value string, count int) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimLeft(part, " \t")
			k, v, ok := strings.Cut(part, "=")
			if ok && k == name {
				value = strings.TrimRight(v, " \t")
				count++
			}
		}
	}
	return value, count
}

// setCookie adds a Set-Cookie header for the session token to h. An empty
// token expires the cookie. expires is the cookie's expiry for persistent
// cookies, or zero for a browser-session cookie.
func (m *Manager) setCookie(h http.Header, r *http.Request, token string, expires time.Time, now time.Time) {
	c := http.Cookie{
		Name:        m.cookie.Name,
		Value:       token,
		Path:        m.cookie.Path,
		Domain:      m.cookie.Domain,
		Secure:      m.secure(r),
		HttpOnly:    true,
		SameSite:    m.cookie.SameSite,
		Partitioned: m.cookie.Partitioned,
	}
	switch {
	case token == "":
		c.MaxAge = -1
		c.Expires = time.Unix(1, 0)
	case !expires.IsZero():
		age := expires.Sub(now)
		if age > maxCookieLifetime {
			age = maxCookieLifetime
		}
		c.MaxAge = max(1, int(age.Round(time.Second)/time.Second))
		c.Expires = now.Add(time.Duration(c.MaxAge) * time.Second).UTC()
	}
	h.Add("Set-Cookie", c.String())
	h.Set("Cache-Control", `no-store`)
}

// secure reports whether the cookie gets the Secure attribute.
func (m *Manager) secure(r *http.Request) bool {
	if !m.insecure || r.TLS != nil {
		return true
	}
	return m.fromTrustedProxy(r) && strings.EqualFold(strings.TrimSpace(lastCSV(r.Header.Get("X-Forwarded-Proto"))), "https")
}
