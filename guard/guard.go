// Package guard limits failed logins: an application reports each failure
// for an account and for the client's address, and asks before checking a
// password whether the account or address must wait.
//
//	lim := guard.New(guard.Config{Manager: m})
//	...
//	for _, k := range []string{"user:" + name, "ip:" + m.ClientIP(r).String()} {
//		if wait, _ := lim.Check(ctx, k); wait > 0 { /* 429, Retry-After: wait */ }
//	}
//	if !passwordOK {
//		lim.Fail(ctx, "user:"+name, r)
//		lim.Fail(ctx, "ip:"+m.ClientIP(r).String(), r)
//	}
//
// Counts live in any keycard store, under "guard:" and the SHA-256 of the
// key (so account names and addresses are not stored in the clear, and
// counts are never mistaken for sessions): the default
// in-memory store limits one instance; a shared store (Redis, SQL) makes
// the limit hold across instances. Counts use compare-and-set, so
// concurrent failures are all counted.
package guard

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// EventLimit is the kind of the Event a Limiter emits when a key reaches
// its limit of failed logins, with ReasonLimit.
const EventLimit keycard.EventKind = "login-failures"

// ReasonLimit is the reason of the EventLimit a Limiter
// emits when a key reaches its limit. The event's Attrs carry the count
// and the hashed key, never the key itself.
const ReasonLimit keycard.Reason = "limit-reached"

// Config configures a Limiter. The zero Config allows 5 failures per key
// per 15 minutes, counted in memory.
type Config struct {
	// Limit is how many failures a key may have in one window; the next
	// attempt must wait for the window to end. The default is 5.
	Limit int
	// Window is how long failures count, from the first one. The default
	// is 15 minutes.
	Window time.Duration
	// Store keeps the counts. The default is a new memory store.
	Store store.Store
	// Manager, if set, receives an EventLimit through its event
	// hook when a key reaches its limit.
	Manager *keycard.Manager
	// Now returns the current time. The default is time.Now.
	Now func() time.Time
}

// A Limiter counts failures per key. It is safe for concurrent use.
type Limiter struct {
	cfg Config
}

// New returns a Limiter for cfg, with defaults filled in.
func New(cfg Config) *Limiter {
	if cfg.Limit <= 0 {
		cfg.Limit = 5
	}
	if cfg.Window <= 0 {
		cfg.Window = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Store == nil {
		cfg.Store = memory.New(memory.Config{Now: cfg.Now})
	}
	return &Limiter{cfg: cfg}
}

// Check reports how long key must wait before its next attempt: zero if it
// may try now. A store failure is returned as an error; treat it as "must
// wait" (fail closed).
func (l *Limiter) Check(ctx context.Context, key string) (time.Duration, error) {
	rec, err := l.cfg.Store.Load(ctx, storeKey(key))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("guard: check: %w", err)
	}
	return l.wait(rec), nil
}

// Fail records a failed attempt for key and reports how long key must now
// wait (zero while it is under its limit). r, which may be nil, is passed
// to the event for its address.
func (l *Limiter) Fail(ctx context.Context, key string, r *http.Request) (time.Duration, error) {
	k := storeKey(key)
	for attempt := 0; attempt < 64; attempt++ {
		rec, err := l.cfg.Store.Load(ctx, k)
		switch {
		case errors.Is(err, store.ErrNotFound):
			now := l.cfg.Now()
			rec = &store.Record{Created: now, LastSeen: now, Expires: now.Add(l.cfg.Window), Deadline: now.Add(l.cfg.Window)}
		case err != nil:
			return 0, fmt.Errorf("guard: fail: %w", err)
		}
		n := count(rec) + 1
		rec.Data = binary.BigEndian.AppendUint64(nil, n)
		rec.LastSeen = l.cfg.Now()
		err = l.cfg.Store.Save(ctx, k, rec)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("guard: fail: %w", err)
		}
		if n == uint64(l.cfg.Limit) && l.cfg.Manager != nil {
			l.cfg.Manager.Emit(keycard.Event{Kind: EventLimit, Reason: ReasonLimit,
				Request: r, Attrs: []slog.Attr{slog.Uint64("failures", n), slog.String("key", k)}})
		}
		rec.Version++
		return l.wait(rec), nil
	}
	return 0, fmt.Errorf("guard: fail: %w", store.ErrConflict)
}

// Reset forgets key's failures, typically after a successful login.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.cfg.Store.Delete(ctx, storeKey(key)); err != nil {
		return fmt.Errorf("guard: reset: %w", err)
	}
	return nil
}

// wait returns how long a key with record rec must wait.
func (l *Limiter) wait(rec *store.Record) time.Duration {
	if count(rec) < uint64(l.cfg.Limit) {
		return 0
	}
	return max(0, rec.Deadline.Sub(l.cfg.Now()))
}

func count(rec *store.Record) uint64 {
	if len(rec.Data) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(rec.Data)
}

// keyPrefix starts every store key of a Limiter. A session's store key is
// 64 hex digits with no prefix, so tools that scan a store shared with
// sessions can tell the two apart (keycard's admin commands skip keys that
// are not session hashes).
const keyPrefix = "guard:"

// storeKey hides key from the store.
func storeKey(key string) string {
	sum := sha256.Sum256([]byte("keycard guard v1\x00" + key))
	return keyPrefix + hex.EncodeToString(sum[:])
}
