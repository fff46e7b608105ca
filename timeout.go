package keycard

import (
	"context"
	"time"

	"github.com/keycard-go/keycard/store"
)

// timedStore bounds every call a session makes to the store with a
// deadline, so a stalled store answers a request with an error in bounded
// time even when the request's context has no deadline of its own (the
// usual case in net/http).
type timedStore struct {
	store.Store
	timeout time.Duration
}

func (t timedStore) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= t.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, t.timeout)
}

func (t timedStore) Load(ctx context.Context, key string) (*store.Record, error) {
	ctx, cancel := t.bound(ctx)
	defer cancel()
	return t.Store.Load(ctx, key)
}

func (t timedStore) Save(ctx context.Context, key string, rec *store.Record) error {
	ctx, cancel := t.bound(ctx)
	defer cancel()
	return t.Store.Save(ctx, key, rec)
}

func (t timedStore) Delete(ctx context.Context, key string) error {
	ctx, cancel := t.bound(ctx)
	defer cancel()
	return t.Store.Delete(ctx, key)
}

func (t timedStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	ctx, cancel := t.bound(ctx)
	defer cancel()
	return t.Store.Touch(ctx, key, lastSeen, expires)
}

// timed bounds st's calls with timeout, keeping store.Batcher where st
// has it and claiming it nowhere else, so that callers can tell by a type
// assertion whether one call can save several records.
func timed(st store.Store, timeout time.Duration) store.Store {
	t := timedStore{st, timeout}
	if b, ok := st.(store.Batcher); ok {
		return timedBatcher{t, b}
	}
	return t
}

// timedBatcher is a timedStore over a store.Batcher.
type timedBatcher struct {
	timedStore
	b store.Batcher
}

// SaveBatch bounds a batch like any other call.
func (t timedBatcher) SaveBatch(ctx context.Context, entries []store.Entry) error {
	ctx, cancel := t.bound(ctx)
	defer cancel()
	return t.b.SaveBatch(ctx, entries)
}
