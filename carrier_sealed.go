package keycard

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"time"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/internal/sealed"
	"github.com/keycard-go/keycard/store"
)

// sealedCarrier carries the whole session in its cookie (Config.Sealed):
//
//	base64url(seal(version (8 bytes) | ID (32) | store.EncodeRecord(record)))
//
// sealed with package internal/sealed under keys derived from Config.Keys, bound to
// the cookie name. The session code runs unchanged over cookieRecords, a
// per-request stand-in for a store that holds the records of this one
// request; the cookie is resealed whenever that record changes.
type sealedCarrier struct {
	cookie *cookieCarrier // the cookie that carries the sealed session
	box    *sealed.Box
}

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

func (c *sealedCarrier) presented(h http.Header) (string, int) { return c.cookie.presented(h) }

func (c *sealedCarrier) records(store.Store) store.Store { return &cookieRecords{} }

// open decodes a sealed cookie value into st. A cookie that does not open
// is refused like a forged signed cookie.
func (c *sealedCarrier) open(st store.Store, v string) (sessionID, string, event.Reason) {
	var id sessionID
	if len(v) > maxCookieSize {
		return id, "", event.ReasonMalformed
	}
	raw, err := b64.DecodeString(v)
	if err != nil {
		return id, "", event.ReasonMalformed
	}
	plain, err := c.box.Open(nil, raw, c.cookie.m.ids.ctx)
	if err != nil {
		return id, "", event.ReasonBadMAC
	}
	if len(plain) < 8+idSize {
		return id, "", event.ReasonMalformed
	}
	rec, err := store.DecodeRecord(plain[8+idSize:])
	if err != nil {
		return id, "", event.ReasonMalformed
	}
	rec.Version = binary.BigEndian.Uint64(plain)
	copy(id[:], plain[8:])
	key := id.hash()
	st.(*cookieRecords).recs = map[string]*store.Record{key: rec}
	return id, key, ""
}

// write reseals the session into its cookie if its record changed. It
// fails with ErrTooLarge if the cookie would pass 4096 bytes.
func (c *sealedCarrier) write(h http.Header, s *Session, now time.Time) error {
	var value string
	if cr := s.st.(*cookieRecords); cr.dirty {
		cr.dirty = false
		rec := cr.recs[s.key]
		if rec == nil || s.isNew {
			s.reply.clear = true
		} else {
			var err error
			if value, err = c.seal(s, rec); err != nil {
				return err
			}
		}
	}
	c.cookie.send(h, s, value, now)
	return nil
}

// seal returns the cookie value holding s with its stored record rec.
func (c *sealedCarrier) seal(s *Session, rec *store.Record) (string, error) {
	plain := binary.BigEndian.AppendUint64(make([]byte, 0, 256+len(rec.Data)), rec.Version)
	plain = append(plain, s.id[:]...)
	sealedRec := *rec
	sealedRec.IP, sealedRec.UserAgent = "", "" // device details need a store
	plain = append(plain, store.EncodeRecord(&sealedRec)...)
	v := b64.EncodeToString(c.box.Seal(nil, plain, c.cookie.m.ids.ctx))
	if n := len(c.cookie.m.cfg.Cookie.Name) + 1 + len(v); n > maxCookieSize {
		return "", fmt.Errorf("%w: the sealed session cookie would be %d bytes, limit %d", ErrTooLarge, n, maxCookieSize)
	}
	return v, nil
}

func (c *sealedCarrier) token(*Session) (string, error) {
	return "", fmt.Errorf("keycard: a sealed session's token is its cookie: %w", store.ErrUnsupported)
}

// reissues is false: a sealed session has no ID for rotation to replace.
func (c *sealedCarrier) reissues() bool { return false }

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
