package guard

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/keycard-go/keycard/store"
)

// maxAttempts bounds the compare-and-set retries of one increment.
const maxAttempts = 64

// load returns the failures counted under key and the end of their window:
// zero and a zero time when there are none.
func (l *Limiter) load(ctx context.Context, key string) (uint64, time.Time, error) {
	rec, err := l.cfg.Store.Load(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	return count(rec), rec.Deadline, nil
}

// add counts one more failure under key, starting a window if none is
// running, and returns the new count and the end of its window.
func (l *Limiter) add(ctx context.Context, key string) (uint64, time.Time, error) {
	for range maxAttempts {
		rec, err := l.cfg.Store.Load(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			now := l.cfg.Now()
			end := now.Add(l.cfg.Window)
			rec = &store.Record{Created: now, LastSeen: now, Expires: end, Deadline: end}
		case err != nil:
			return 0, time.Time{}, err
		}
		n := count(rec) + 1
		rec.Data = binary.BigEndian.AppendUint64(nil, n)
		rec.LastSeen = l.cfg.Now()
		err = l.cfg.Store.Save(ctx, key, rec)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return 0, time.Time{}, err
		}
		return n, rec.Deadline, nil
	}
	return 0, time.Time{}, store.ErrConflict
}

// count returns the failures a record holds.
func count(rec *store.Record) uint64 {
	if len(rec.Data) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(rec.Data)
}
