package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store"
)

// The provider names the sessions to end by its own identifiers: its
// session ID ("sid") or the account ("sub"), of its issuer. Keycard
// stores sessions under their own IDs and indexes them by the
// application's user ID. The index bridges the two: a record per (issuer,
// sid) and per (issuer, sub) names the application users that signed in
// with it. A logout request then lists those users' sessions (the store's
// user index) and ends the ones whose recorded Identity matches.
//
// Index records live in the Manager's store beside the sessions, under
// keys "oidc:" + hex(HMAC-SHA-256(key, kind | issuer | value)), keyed with
// Manager.DeriveKeys, so a store dump shows no subject or session ID, and
// with no user ID of their own (UserID ""), so that no device list shows
// them. Each lives as long as the longest session it was written for.

// storeKeyPrefix starts every store key this package writes. A session's
// store key is 64 hex digits with no prefix, so tools that scan a store
// shared with sessions can tell them apart.
const storeKeyPrefix = "oidc:"

// Kinds of store key.
const (
	kindSession byte = 's' // index: (issuer, sid) -> users
	kindSubject byte = 'u' // index: (issuer, sub) -> users
	kindTokenID byte = 'j' // a logout token's jti, seen
)

// maxIndexUsers bounds the users one index record names; past it the
// oldest is forgotten. One provider account maps to one application user
// in practice; a few allow for re-linking.
const maxIndexUsers = 8

// maxIndexAttempts bounds the compare-and-set retries of one index write.
const maxIndexAttempts = 32

// storeKey returns the store key of kind for (issuer, value) under key.
func storeKey(key keycard.Key, kind byte, issuer, value string) string {
	msg := []byte{kind}
	for _, f := range []string{issuer, value} {
		msg = binary.BigEndian.AppendUint64(msg, uint64(len(f)))
		msg = append(msg, f...)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(msg)
	return storeKeyPrefix + hex.EncodeToString(mac.Sum(nil))
}

// indexed reports whether provider logout can find sessions: the Manager
// stores them, in a store with a user index.
func (c *Client) indexed() bool {
	st := c.m.Store()
	if st == nil {
		return false
	}
	_, ok := st.(store.UserIndex)
	return ok
}

// mustIndex panics, when a logout handler is built, if provider logout
// cannot work with the Manager's store.
func (c *Client) mustIndex(handler string) {
	if !c.indexed() {
		panic(fmt.Sprintf("oidc: %s needs the Manager to store sessions in a store with a user index (store.UserIndex); %T has none", handler, c.m.Store()))
	}
}

// index records that userID signed in with id, until at least until.
func (c *Client) index(ctx context.Context, id Identity, userID string, until time.Time) error {
	if id.SessionID != "" {
		if err := c.indexOne(ctx, storeKey(c.keys[0], kindSession, id.Issuer, id.SessionID), userID, until); err != nil {
			return err
		}
	}
	return c.indexOne(ctx, storeKey(c.keys[0], kindSubject, id.Issuer, id.Subject), userID, until)
}

func (c *Client) indexOne(ctx context.Context, key, userID string, until time.Time) error {
	st := c.m.Store()
	for range maxIndexAttempts {
		now := time.Now()
		rec, err := st.Load(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			rec = &store.Record{Created: now}
		case err != nil:
			return err
		}
		users := decodeUsers(rec.Data)
		users = slices.DeleteFunc(users, func(u string) bool { return u == userID })
		users = append(users, userID)
		if len(users) > maxIndexUsers {
			users = users[len(users)-maxIndexUsers:]
		}
		rec.Data, _ = json.Marshal(users)
		rec.LastSeen = now
		if until.After(rec.Deadline) {
			rec.Deadline = until
		}
		rec.Expires = rec.Deadline
		err = st.Save(ctx, key, rec)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return err
	}
	return store.ErrConflict
}

// indexedUsers returns the users the index names for kind and (issuer,
// value), under the current and every older derived key.
func (c *Client) indexedUsers(ctx context.Context, kind byte, issuer, value string) ([]string, error) {
	var users []string
	for _, k := range c.keys {
		rec, err := c.m.Store().Load(ctx, storeKey(k, kind, issuer, value))
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		}
		for _, u := range decodeUsers(rec.Data) {
			if !slices.Contains(users, u) {
				users = append(users, u)
			}
		}
	}
	return users, nil
}

// decodeUsers decodes an index record's users; anything else reads as none.
func decodeUsers(b []byte) []string {
	var users []string
	if len(b) > 64<<10 || json.Unmarshal(b, &users) != nil {
		return nil
	}
	return slices.DeleteFunc(users, func(u string) bool { return u == "" })
}

// endSessions ends the sessions the provider names: those of (issuer, sid)
// when sid is given (and of sub too when both are), else every session of
// (issuer, sub). It reports how many it ended.
func (c *Client) endSessions(ctx context.Context, sub, sid string) (int, error) {
	kind, value := kindSubject, sub
	if sid != "" {
		kind, value = kindSession, sid
	}
	users, err := c.indexedUsers(ctx, kind, c.issuer, value)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range users {
		infos, err := c.m.Sessions(ctx, u)
		if err != nil {
			return n, err
		}
		for _, info := range infos {
			s, err := c.m.OpenByHash(ctx, info.Hash)
			if errors.Is(err, keycard.ErrInvalidToken) {
				continue // ended meanwhile
			}
			if err != nil {
				return n, err
			}
			id, ok := IdentityOf(s)
			if !ok || id.Issuer != c.issuer || sid != "" && id.SessionID != sid || sub != "" && id.Subject != sub {
				continue
			}
			if err := c.m.Revoke(ctx, info.Hash); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
