package keycard

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/keycard-go/keycard/store"
)

// timedStore bounds every call a session makes to the store with a
// deadline, so a stalled store answers a request with an error in bounded
// time even when the request's context has no deadline of its own (the
// usual case in net/http).
type timedStore struct {
	store.Store
	clock *deadlines
}

// timed bounds st's calls with timeout, keeping store.Batcher where st
// has it and claiming it nowhere else, so that callers can tell by a type
// assertion whether one call can save several records.
func timed(st store.Store, timeout time.Duration) store.Store {
	t := timedStore{st, &deadlines{timeout: timeout}}
	if b, ok := st.(store.Batcher); ok {
		return timedBatcher{t, b}
	}
	return t
}

// bound returns the context of a call made with ctx: ctx itself when its
// own deadline comes first, else ctx with the deadline of the call's tick.
// It returns ctx's error, and the call is not made, once ctx is done.
func (t timedStore) bound(ctx context.Context) (context.Context, error) {
	return t.boundAt(ctx, time.Now())
}

// boundAt is bound for a call made at now, by a caller that has just read
// the clock.
func (t timedStore) boundAt(ctx context.Context, now time.Time) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var tk *tick
	if now == now.Round(0) {
		// A testing/synctest bubble, whose clock readings carry no
		// monotonic clock: a tick made in one bubble must not reach
		// another, where its channel is a fatal error, so the call gets
		// a tick of its own.
		tk = newTick(now, t.clock.timeout)
	} else {
		tk = t.clock.at(now)
	}
	if dl, ok := ctx.Deadline(); ok && dl.Before(tk.deadline) {
		return ctx, nil
	}
	return &boundCtx{ctx, tk}, nil
}

func (t timedStore) Load(ctx context.Context, key string) (*store.Record, error) {
	ctx, err := t.bound(ctx)
	if err != nil {
		return nil, err
	}
	return t.Store.Load(ctx, key)
}

// LoadRecord loads into rec where the bounded store can
// (store.RecordLoader), and otherwise copies what its Load returns.
func (t timedStore) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	return t.loadRecordAt(ctx, key, rec, time.Now())
}

// loadRecordAt is LoadRecord for a call made at now: a session's load
// reads the clock once for the expiry checks and the call's deadline.
func (t timedStore) loadRecordAt(ctx context.Context, key string, rec *store.Record, now time.Time) error {
	ctx, err := t.boundAt(ctx, now)
	if err != nil {
		return err
	}
	if l, ok := t.Store.(store.RecordLoader); ok {
		return l.LoadRecord(ctx, key, rec)
	}
	r, err := t.Store.Load(ctx, key)
	if err != nil {
		return err
	}
	*rec = *r
	return nil
}

func (t timedStore) Save(ctx context.Context, key string, rec *store.Record) error {
	ctx, err := t.bound(ctx)
	if err != nil {
		return err
	}
	return t.Store.Save(ctx, key, rec)
}

func (t timedStore) Delete(ctx context.Context, key string) error {
	ctx, err := t.bound(ctx)
	if err != nil {
		return err
	}
	return t.Store.Delete(ctx, key)
}

func (t timedStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	ctx, err := t.bound(ctx)
	if err != nil {
		return err
	}
	return t.Store.Touch(ctx, key, lastSeen, expires)
}

// timedBatcher is a timedStore over a store.Batcher.
type timedBatcher struct {
	timedStore
	b store.Batcher
}

// SaveBatch bounds a batch like any other call.
func (t timedBatcher) SaveBatch(ctx context.Context, entries []store.Entry) error {
	ctx, err := t.bound(ctx)
	if err != nil {
		return err
	}
	return t.b.SaveBatch(ctx, entries)
}

// deadlines hands out the deadlines of store calls. The calls that start
// in one tick, a sixteenth of the timeout, share a deadline, at least the
// timeout after each of them and at most a tick more, and the one timer
// that closes their Done channel: a call costs one small allocation, not
// a timer and a child of the request's context, which is what
// context.WithTimeout costs and several times the rest of a read.
type deadlines struct {
	timeout time.Duration
	cur     atomic.Pointer[tick]
}

// A tick is the deadline shared by the calls started in its first
// sixteenth of a timeout from start.
type tick struct {
	start, deadline time.Time
	ctx             context.Context // done at deadline
	cancel          context.CancelFunc
}

// at returns the tick of a call started at now, outside any
// testing/synctest bubble (see timedStore.bound).
func (d *deadlines) at(now time.Time) *tick {
	width := d.timeout / 16
	for {
		t := d.cur.Load()
		if t != nil && !now.Before(t.start) && now.Sub(t.start) < width {
			return t
		}
		next := newTick(now, d.timeout+width)
		if d.cur.CompareAndSwap(t, next) {
			return next
		}
		next.stop()
	}
}

// newTick returns a tick that starts at now and ends after d.
func newTick(now time.Time, d time.Duration) *tick {
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(d))
	return &tick{start: now, deadline: now.Add(d), ctx: ctx, cancel: cancel}
}

// stop releases the timer of a tick no call uses.
func (t *tick) stop() { t.cancel() }

// A boundCtx is a store call's context: its parent's values, and its
// tick's deadline, which comes before the parent's. Unlike a
// context.WithTimeout child, it is done only at the deadline, not when
// its parent is canceled: a request canceled before a call makes none
// (see timedStore.bound), and a call already made runs until it ends or
// the deadline passes.
type boundCtx struct {
	context.Context
	t *tick
}

// Deadline returns the tick's deadline.
func (c *boundCtx) Deadline() (time.Time, bool) { return c.t.deadline, true }

// Done is closed at the tick's deadline.
func (c *boundCtx) Done() <-chan struct{} { return c.t.ctx.Done() }

// Err is nil until the deadline, then context.DeadlineExceeded: the
// deadline is what closes Done, and a context's error, once reported,
// does not change (as the parent's would, canceled later).
func (c *boundCtx) Err() error { return c.t.ctx.Err() }

// AfterFunc arranges to call f once the deadline passes, as
// context.AfterFunc does. context.AfterFunc, and a context derived from
// the call's (by a driver that watches it, as pgx does), use it instead
// of a goroutine per call.
func (c *boundCtx) AfterFunc(f func()) (stop func() bool) {
	return context.AfterFunc(c.t.ctx, f)
}
