package keycard

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/internal/keyring"
)

// A session ID is idSize random bytes. The cookie and header carriers hand
// it to the client signed, as
//
//	base64url(version | key ID | ID | HMAC-SHA256 tag)
//
// where the tag covers Config.Cookie.Name (whichever carrier hands the
// token out) and the ID under the newest key of the key ring. Stores only
// see its hash.
const (
	idSize         = 32
	tokenVersion   = 1
	tagSize        = sha256.Size
	tokenRawSize   = 1 + keyring.KeyIDSize + idSize + tagSize
	tokenEncodedSz = (tokenRawSize*8 + 5) / 6
)

var b64 = base64.RawURLEncoding.Strict()

// sessionID is a raw session ID. It never leaves the process except inside
// a signed or sealed token.
type sessionID [idSize]byte

// hash returns the store key of id: lowercase hex SHA-256.
func (id *sessionID) hash() string {
	sum := sha256.Sum256(id[:])
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

// idSigner makes, signs and verifies session IDs, and derives the ID a
// rotation moves a session to. Its keys come from Config.Keys, each
// purpose with its own derived subkeys.
type idSigner struct {
	ring    *keyring.Ring   // signs IDs for the client
	rotRing *keyring.Ring   // derives rotated IDs
	ctx     []byte          // MAC context: binds tokens to Config.Cookie.Name
	seen    *verifiedTokens // tokens verified recently, for open
}

func newIDSigner(secrets [][]byte, name string) (*idSigner, error) {
	ring, err := keyring.New("session cookie v1", secrets)
	if err != nil {
		return nil, err
	}
	rotRing, err := keyring.New("session rotation v1", secrets)
	if err != nil {
		return nil, err
	}
	return &idSigner{
		ring:    ring,
		rotRing: rotRing,
		ctx:     []byte("keycard session id v1\x00" + name + "\x00"),
		seen:    newVerifiedTokens(),
	}, nil
}

// sign returns the token that carries id.
func (g *idSigner) sign(id *sessionID) string {
	var raw [tokenRawSize]byte
	raw[0] = tokenVersion
	kid := g.ring.SignID()
	copy(raw[1:], kid[:])
	copy(raw[1+keyring.KeyIDSize:], id[:])
	copy(raw[1+keyring.KeyIDSize+idSize:], g.ring.Sign(nil, g.ctx, id[:]))
	return b64.EncodeToString(raw[:])
}

// token returns s's signed ID, for the carriers that hand one out, or
// ErrNoToken while s has none to give.
func (g *idSigner) token(s *Session) (string, error) {
	if s.isNew || s.byHash != "" {
		return "", ErrNoToken
	}
	return g.sign(&s.id), nil
}

// verify checks a presented token and returns its ID, or the reason it is
// refused. It does no store call and no allocation.
func (g *idSigner) verify(v string) (sessionID, event.Reason) {
	var id sessionID
	if len(v) != tokenEncodedSz {
		return id, event.ReasonMalformed
	}
	var src [tokenEncodedSz]byte
	var raw [tokenRawSize]byte
	copy(src[:], v)
	if n, err := b64.Decode(raw[:], src[:]); err != nil || n != tokenRawSize || raw[0] != tokenVersion {
		return id, event.ReasonMalformed
	}
	var kid [keyring.KeyIDSize]byte
	copy(kid[:], raw[1:])
	copy(id[:], raw[1+keyring.KeyIDSize:])
	if !g.ring.Verify(kid, raw[1+keyring.KeyIDSize+idSize:], g.ctx, id[:]) {
		return sessionID{}, event.ReasonBadMAC
	}
	return id, ""
}

// next derives the ID that id rotates to.
func (g *idSigner) next(id *sessionID) sessionID {
	var next sessionID
	copy(next[:], g.rotRing.Sign(nil, id[:]))
	return next
}

// rotated derives the ID that id was rotated to, whose store key a
// rotation's marker names (named), under whichever key of the ring
// derived it: during a key rollout, instances whose newest keys differ
// rotate to different IDs, and each must follow the others' rotations.
// A marker that names no key (one written before markers named their
// successor) gets the ID this instance derives.
func (g *idSigner) rotated(id *sessionID, named string) (sessionID, bool) {
	if named == "" {
		return g.next(id), true
	}
	for i := range g.rotRing.Len() {
		var next sessionID
		copy(next[:], g.rotRing.SignWith(i, nil, id[:]))
		if subtle.ConstantTimeCompare([]byte(next.hash()), []byte(named)) == 1 {
			return next, true
		}
	}
	return sessionID{}, false
}
