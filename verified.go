package keycard

import (
	"encoding/binary"
	"hash/maphash"
	"sync/atomic"

	"github.com/keycard-go/keycard/event"
)

// verifiedTokens remembers the tokens an idSigner verified recently, with
// the ID each carries and that ID's store key. A client presents the same
// token on every request, so a busy session costs one MAC check and one
// hash per token instead of per request.
//
// Only tokens whose MAC verified are remembered, and a Manager's keys
// never change, so an entry stays true for as long as it is kept: what a
// token names is still looked up in the store on every request. A token
// has one slot, picked by a keyed hash of it, and an entry answers only
// for the token it holds, compared in full in constant time: a lookup's
// timing tells a prober nothing about tokens it does not hold. Slots hold
// immutable entries, read and replaced atomically with no lock; a new
// token takes its slot from whatever held it, so the table never grows
// and never rebuilds. With more clients than slots, some lookups miss and
// cost the MAC check and hash they would have cost anyway.
type verifiedTokens struct {
	seed  maphash.Seed
	slots [verifiedSlots]atomic.Pointer[verifiedToken]
}

// verifiedSlots bounds the cache: 4096 tokens, about 1 MB when full.
const verifiedSlots = 4096

type verifiedToken struct {
	token [tokenEncodedSz]byte // a copy: the request's Cookie header is not kept alive
	id    sessionID
	key   string
}

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{seed: maphash.MakeSeed()}
}

// get returns the entry for token, or nil.
func (c *verifiedTokens) get(token string) *verifiedToken {
	h := maphash.String(c.seed, token)
	e := c.slots[h%verifiedSlots].Load()
	if e == nil || !sameToken(&e.token, token) {
		return nil
	}
	return e
}

// put remembers that token, a verified one, carries id, stored under key.
func (c *verifiedTokens) put(token string, id sessionID, key string) {
	if len(token) != tokenEncodedSz {
		return // verify refuses every other length
	}
	h := maphash.String(c.seed, token)
	e := &verifiedToken{id: id, key: key}
	copy(e.token[:], token)
	c.slots[h%verifiedSlots].Store(e)
}

// sameToken reports whether b is the token a holds, in time that depends
// only on b's length. It compares eight bytes at a time, and the token's
// last, partial word byte by byte, with no early exit.
func sameToken(a *[tokenEncodedSz]byte, b string) bool {
	if len(b) != len(a) {
		return false
	}
	var v uint64
	i := 0
	for ; i+8 <= len(a); i += 8 {
		v |= binary.LittleEndian.Uint64(a[i:]) ^ word(b[i:])
	}
	for ; i < len(a); i++ {
		v |= uint64(a[i] ^ b[i])
	}
	return v == 0
}

// word returns the first eight bytes of s as a little-endian integer.
func word(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// open checks a presented token and returns its ID and the ID's store key,
// or the reason it is refused. It makes no store call.
func (g *idSigner) open(token string) (sessionID, string, event.Reason) {
	if e := g.seen.get(token); e != nil {
		return e.id, e.key, ""
	}
	id, reason := g.verify(token)
	if reason != "" {
		return id, "", reason
	}
	key := id.hash()
	g.seen.put(token, id, key)
	return id, key, ""
}
