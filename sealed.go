package keycard

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/keycard-go/keycard/sealed"
	"github.com/keycard-go/keycard/store"
)

// A sealed session travels whole in its cookie: the cookie holds
//
//	base64url(seal(version (8 bytes) | ID (32) | store.EncodeRecord(record)))
//
// sealed with package sealed under keys derived from Config.Keys, bound to
// the cookie name. The session code runs unchanged over cookieRecords, a
// per-request stand-in for a store that holds the records of this one
// request; the cookie is resealed whenever that record changes.

// maxCookieSize is the largest cookie (name, "=" and value) browsers must
// accept (RFC 6265bis).
const maxCookieSize = 4096

// sealedReserve is the sealed cookie's room for everything but the values:
// version, ID, record fields and a user ID of up to 128 bytes.
const sealedReserve = 8 + idSize + 64 + 128

// sealedValueBudget returns how many bytes of values fit in a sealed cookie
// named name.
func sealedValueBudget(name string) int {
	raw := (maxCookieSize - len(name) - 1) * 3 / 4
	return raw - sealed.Overhead - sealedReserve
}

// cookieRecords stands in for a store in sealed mode. It is used by one
// request at a time and is not safe for concurrent use on its own; the
// Session's mutex guards it.
type cookieRecords struct {
	recs  map[string]*store.Record
	dirty bool // a record changed: the cookie must be resealed
}

func (c *cookieRecords) Load(_ context.Context, key string) (*store.Record, error) {
	rec, ok := c.recs[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return rec.Clone(), nil
}

func (c *cookieRecords) Save(_ context.Context, key string, rec *store.Record) error {
	var have uint64
	if old, ok := c.recs[key]; ok {
		have = old.Version
	}
	if have != rec.Version {
		return store.ErrConflict
	}
	if c.recs == nil {
		c.recs = make(map[string]*store.Record)
	}
	saved := rec.Clone()
	saved.Version++
	c.recs[key], c.dirty = saved, true
	return nil
}

func (c *cookieRecords) Delete(_ context.Context, key string) error {
	if _, ok := c.recs[key]; ok {
		delete(c.recs, key)
		c.dirty = true
	}
	return nil
}

func (c *cookieRecords) Touch(_ context.Context, key string, lastSeen, expires time.Time) error {
	rec, ok := c.recs[key]
	if !ok {
		return store.ErrNotFound
	}
	rec.LastSeen, rec.Expires, c.dirty = lastSeen, expires, true
	return nil
}

// loadSealed opens the sealed cookie and loads the session from it. A
// cookie that does not open is rejected like a forged signed cookie.
func (s *Session) loadSealed(ctx context.Context, now time.Time) {
	id, rec, reason := s.m.openSealed(s.cookie)
	if s.cookies > 1 {
		reason = reasonDuplicate
	}
	if reason != "" {
		s.m.emit(Event{Kind: EventRejected, Reason: reason, Request: s.r})
		s.startNew(now, true)
		return
	}
	key := id.hash()
	s.st.(*cookieRecords).recs = map[string]*store.Record{key: rec}
	s.loadKey(ctx, id, key, now)
}

// openSealed decodes a sealed cookie value.
func (m *Manager) openSealed(v string) (sessionID, *store.Record, string) {
	var id sessionID
	if len(v) > maxCookieSize {
		return id, nil, reasonMalformed
	}
	raw, err := b64.DecodeString(v)
	if err != nil {
		return id, nil, reasonMalformed
	}
	plain, err := m.box.Open(nil, raw, m.macCtx)
	if err != nil {
		return id, nil, reasonBadMAC
	}
	if len(plain) < 8+idSize {
		return id, nil, reasonMalformed
	}
	rec, err := store.DecodeRecord(plain[8+idSize:])
	if err != nil {
		return id, nil, reasonMalformed
	}
	rec.Version = binary.BigEndian.Uint64(plain)
	copy(id[:], plain[8:])
	return id, rec, ""
}

// sealCookie reseals the session into its cookie value if its record
// changed. It fails with ErrTooLarge if the cookie would pass 4096 bytes.
// s.mu must be held.
func (s *Session) sealCookie() error {
	cr, ok := s.st.(*cookieRecords)
	if !ok || !cr.dirty {
		return nil
	}
	cr.dirty = false
	rec := cr.recs[s.key]
	if rec == nil || s.isNew {
		s.clearCookie = true
		return nil
	}
	plain := binary.BigEndian.AppendUint64(make([]byte, 0, 256+len(rec.Data)), rec.Version)
	plain = append(plain, s.id[:]...)
	sealedRec := *rec
	sealedRec.IP, sealedRec.UserAgent = "", "" // device details need a store
	plain = append(plain, store.EncodeRecord(&sealedRec)...)
	v := b64.EncodeToString(s.m.box.Seal(nil, plain, s.m.macCtx))
	if n := len(s.m.cookie.Name) + 1 + len(v); n > maxCookieSize {
		return fmt.Errorf("%w: the sealed session cookie would be %d bytes, limit %d", ErrTooLarge, n, maxCookieSize)
	}
	s.sealed, s.sendCookie = v, true
	return nil
}

// tokenValue returns what the client must hold: the signed ID, or the
// sealed session.
func (s *Session) tokenValue() string {
	if s.m.box != nil {
		return s.sealed
	}
	return s.m.encodeToken(&s.id)
}

// revoked reports whether the app's Config.RevokedBefore revokes rec.
func (m *Manager) revoked(ctx context.Context, rec *store.Record) (bool, error) {
	if m.revokedBefore == nil || rec.UserID == "" {
		return false, nil
	}
	cutoff, err := m.revokedBefore(ctx, rec.UserID)
	if err != nil {
		return false, fmt.Errorf("keycard: RevokedBefore: %w", err)
	}
	return rec.AuthTime.Before(cutoff), nil
}
