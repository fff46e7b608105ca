package csrf

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"

	"github.com/keycard-go/keycard"
)

// secretSize is the size of a session's anti-forgery secret: 256 bits.
const secretSize = 32

// secretKey is the session key of the anti-forgery secret: scoped to the
// login, so Login and Renew delete it and a token issued before a
// privilege change does not work after it.
const secretKey = keycard.LoginScoped + "csrf"

// A token is base64url(pad | pad XOR secret), with a fresh random pad for
// every token, so no two tokens are alike (see the package documentation
// on BREACH).
var (
	b64      = base64.RawURLEncoding.Strict()
	tokenLen = b64.EncodedLen(2 * secretSize)
)

// Token returns an anti-forgery token for the session of r, to put in a
// form's hidden field (Config.FieldName, "csrf_token" by default) or to
// give a script for the request header (Config.HeaderName, "X-CSRF-Token"
// by default). Every call returns a different token (see the package
// documentation on BREACH), and every one of them stays valid as long as
// what it is bound to.
//
// For a visitor whose session is not stored (Session.IsNew), Token stores
// nothing: the token is bound to a random value in the visitor's own
// cookie (VisitorCookieName), which Token sets if the request did not
// carry one, so a visitor who only reads pages costs no store write. Such
// a token stays valid while the visitor keeps the cookie and has not
// logged in: also after their session is first stored, and for the
// request that logs them in. For a stored session, Token creates the
// session's secret if it has none and binds the token to it; it stays
// valid until the session ends or its user logs in (Manager.Login
// deletes the secret, so the session gets a new one).
//
// Token sets a cookie or stores a secret only before the response starts
// (call it before writing the page); when it cannot, or when the session
// could not be loaded (the Manager then answers with its ErrorHandler), it
// returns "". An empty token never verifies. Visitor tokens need r to come
// through Protection.Handler; elsewhere Token stores the secret in the
// session, as for a stored one.
//
// A page that carries a token belongs to one visitor: Keycard marks its
// response "Vary: Cookie", and it must not be stored by shared caches.
//
// Token panics if r was not served through keycard.Manager.Handler.
func Token(r *http.Request) string {
	s := keycard.FromContext(r.Context())
	if s.Err() != nil {
		return ""
	}
	if v, ok := r.Context().Value(visitKey).(*visit); ok && v.s == s && s.IsNew() {
		return v.visitorToken()
	}
	return sessionToken(r, s)
}

// sessionToken returns a token bound to the secret of the session s,
// creating the secret if it has none.
func sessionToken(r *http.Request, s *keycard.Session) string {
	secret, ok := keycard.Get[[]byte](s, secretKey)
	if !ok || len(secret) != secretSize {
		fresh := make([]byte, secretSize)
		rand.Read(fresh)
		// Update, not Put: requests of one session racing to create the
		// secret all end up with the one that was stored first, so no
		// page gets a token that the next request no longer accepts.
		var err error
		secret, err = keycard.Update(r.Context(), s, secretKey, func(old []byte) []byte {
			if len(old) == secretSize {
				return old
			}
			return fresh
		})
		if err != nil {
			return ""
		}
	}
	return mask(secret)
}

// mask returns a new token for secret.
func mask(secret []byte) string {
	var raw [2 * secretSize]byte
	pad, masked := raw[:secretSize], raw[secretSize:]
	rand.Read(pad)
	subtle.XORBytes(masked, pad, secret)
	return b64.EncodeToString(raw[:])
}

// verify reports whether tok is a token for secret, in constant time for
// tokens of the right length.
func verify(secret []byte, tok string) bool {
	if len(secret) != secretSize || len(tok) != tokenLen {
		return false
	}
	var raw [2 * secretSize]byte
	if n, err := b64.Decode(raw[:], []byte(tok)); err != nil || n != len(raw) {
		return false
	}
	var got [secretSize]byte
	subtle.XORBytes(got[:], raw[:secretSize], raw[secretSize:])
	return subtle.ConstantTimeCompare(got[:], secret) == 1
}

// presented returns the token r carries: from the header if set, or else
// from the form field of a form body, which it reads up to MaxFormBytes.
// It never reads the URL query, and leaves other bodies (JSON...) unread.
// The returned error tells why a form could not be read.
func (p *Protection) presented(w http.ResponseWriter, r *http.Request) (string, error) {
	if tok := r.Header.Get(p.header); tok != "" {
		return tok, nil
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || r.Body == nil {
		return "", nil
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		r.Body = http.MaxBytesReader(w, r.Body, p.maxForm)
		err = r.ParseForm()
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, p.maxForm)
		err = r.ParseMultipartForm(p.maxForm)
	default:
		return "", nil
	}
	// PostForm holds the body's fields only, never the query's.
	return r.PostForm.Get(p.field), err
}
