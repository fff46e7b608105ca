package keycard

import (
	"hash/maphash"
	"strings"
	"sync"

	"github.com/keycard-go/keycard/event"
)

// verifiedTokens remembers the tokens an idSigner verified recently, with
// the ID each carries and that ID's store key. A client presents the same
// token on every request, so a busy session costs one MAC check and one
// hash per token instead of per request.
//
// Only tokens whose MAC verified are remembered, and a Manager's keys
// never change, so an entry stays true for as long as it is kept: what a
// token names is still looked up in the store on every request. An entry
// is found by a keyed hash of the token and confirmed by comparing the
// whole token in constant time, so a lookup's timing tells a prober
// nothing about the tokens held. The cache is bounded: a shard that fills
// up starts over.
type verifiedTokens struct {
	seed   maphash.Seed
	shards [verifiedShards]verifiedShard
}

const (
	verifiedShards   = 16
	verifiedPerShard = 256 // so at most 4096 tokens, about 1 MB
)

type verifiedShard struct {
	mu sync.Mutex
	m  map[uint64]*verifiedToken
	_  [40]byte // keeps each shard's lock on a cache line of its own
}

type verifiedToken struct {
	token string
	id    sessionID
	key   string
}

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{seed: maphash.MakeSeed()}
}

// get returns the entry for token, or nil.
func (c *verifiedTokens) get(token string) *verifiedToken {
	h := maphash.String(c.seed, token)
	sh := &c.shards[h%verifiedShards]
	sh.mu.Lock()
	e := sh.m[h]
	sh.mu.Unlock()
	if e == nil || !sameToken(e.token, token) {
		return nil
	}
	return e
}

// put remembers that token verified and carries id, stored under key.
func (c *verifiedTokens) put(token string, id sessionID, key string) {
	// A copy, so the entry does not keep the request's Cookie header alive.
	e := &verifiedToken{token: strings.Clone(token), id: id, key: key}
	h := maphash.String(c.seed, token)
	sh := &c.shards[h%verifiedShards]
	sh.mu.Lock()
	if sh.m == nil || len(sh.m) >= verifiedPerShard {
		sh.m = make(map[uint64]*verifiedToken, verifiedPerShard)
	}
	sh.m[h] = e
	sh.mu.Unlock()
}

// sameToken compares a and b in time that depends only on their lengths.
func sameToken(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
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
