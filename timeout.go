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

// SaveBatch bounds a batch like any other call; a store that cannot batch
// reports store.ErrUnsupported.
func (t timedStore) SaveBatch(ctx context.Context, entries []store.Entry) error {
	b, ok := t.Store.(store.Batcher)
	if !ok {
		return store.ErrUnsupported
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	return b.SaveBatch(ctx, entries)
}
