package keycardprom

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/keycard-go/keycard/internal/metriclabels"
	"github.com/keycard-go/keycard/store"
)

//go:generate go run github.com/keycard-go/keycard/internal/cmd/capsgen -pkg keycardprom -prefix timed

// Store returns st with every call timed in
// keycard_store_duration_seconds. Set it as keycard.Config.Store.
//
// The returned store has exactly the optional capabilities of st
// (store.UserIndex, store.Sweeper, store.Scanner, store.Counter,
// store.Batcher, store.RecordLoader, store.NonBlocking and io.Closer),
// since the Manager and tools discover them by type assertion: a wrapper
// that claimed a capability st lacks would pass
// keycard.Config.MaxSessionsPerUser's check and then fail at login, and
// one that hid a capability would cost a renewal a round trip more
// (store.Batcher), leave keycard.Config.Visitors.Max unenforceable
// (store.Counter), cost each request a Record allocated
// (store.RecordLoader) or bound a memory store's calls with a timer each
// (store.NonBlocking). LoadRecord is timed as a load, as Load is. Its
// NeverBlocks reports st's: timing a call waits for nothing. Close,
// where st has it, closes st and is not timed. Its Unwrap method returns
// st.
func (m *Metrics) Store(st store.Store) store.Store {
	p := parts{base: &timedStore{st: st, m: m}}
	ops := []string{metriclabels.OpLoad, metriclabels.OpSave, metriclabels.OpDelete, metriclabels.OpTouch}
	if v, ok := st.(store.UserIndex); ok {
		p.index = &timedIndex{ix: v, m: m}
		ops = append(ops, metriclabels.OpListUser, metriclabels.OpDeleteUser)
	}
	if v, ok := st.(store.Sweeper); ok {
		p.sweeper = &timedSweeper{sw: v, m: m}
		ops = append(ops, metriclabels.OpSweep)
	}
	if v, ok := st.(store.Scanner); ok {
		p.scanner = &timedScanner{sc: v, m: m}
		ops = append(ops, metriclabels.OpScan)
	}
	if v, ok := st.(store.Counter); ok {
		p.counter = &timedCounter{c: v, m: m}
		ops = append(ops, metriclabels.OpCountAnonymous)
	}
	if v, ok := st.(store.Batcher); ok {
		p.batcher = &timedBatcher{b: v, m: m}
		ops = append(ops, metriclabels.OpSaveBatch)
	}
	if v, ok := st.(io.Closer); ok {
		p.closer = &closer{c: v}
	}
	if v, ok := st.(store.NonBlocking); ok {
		p.nonBlocking = &nonBlocking{nb: v}
	}
	if v, ok := st.(store.RecordLoader); ok {
		p.loader = &timedLoader{l: v, m: m} // timed as load, whose series are made above
	}
	for _, op := range ops {
		// Start the series alerts watch at zero, so rate() sees the first
		// call of each.
		m.store.WithLabelValues(op, metriclabels.ResultOK)
		m.store.WithLabelValues(op, metriclabels.ResultError)
	}
	return p.combine()
}

// observe records a call of op that began at start and ended with err.
func (m *Metrics) observe(op string, start time.Time, err error) {
	m.store.WithLabelValues(op, metriclabels.ResultOf(err)).Observe(time.Since(start).Seconds())
}

// timedStore times the methods every store has.
type timedStore struct {
	st store.Store
	m  *Metrics
}

var _ store.Store = (*timedStore)(nil)

func (t *timedStore) Load(ctx context.Context, key string) (*store.Record, error) {
	start := time.Now()
	rec, err := t.st.Load(ctx, key)
	t.m.observe(metriclabels.OpLoad, start, err)
	return rec, err
}

func (t *timedStore) Save(ctx context.Context, key string, rec *store.Record) error {
	start := time.Now()
	err := t.st.Save(ctx, key, rec)
	t.m.observe(metriclabels.OpSave, start, err)
	return err
}

func (t *timedStore) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := t.st.Delete(ctx, key)
	t.m.observe(metriclabels.OpDelete, start, err)
	return err
}

func (t *timedStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	start := time.Now()
	err := t.st.Touch(ctx, key, lastSeen, expires)
	t.m.observe(metriclabels.OpTouch, start, err)
	return err
}

// Unwrap returns the store being timed.
func (t *timedStore) Unwrap() store.Store { return t.st }

// timedIndex times store.UserIndex.
type timedIndex struct {
	ix store.UserIndex
	m  *Metrics
}

func (t *timedIndex) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	start := time.Now()
	entries, err := t.ix.ListUser(ctx, userID)
	t.m.observe(metriclabels.OpListUser, start, err)
	return entries, err
}

func (t *timedIndex) DeleteUser(ctx context.Context, userID string) (int, error) {
	start := time.Now()
	n, err := t.ix.DeleteUser(ctx, userID)
	t.m.observe(metriclabels.OpDeleteUser, start, err)
	return n, err
}

// timedSweeper times store.Sweeper.
type timedSweeper struct {
	sw store.Sweeper
	m  *Metrics
}

func (t *timedSweeper) Sweep(ctx context.Context) (int, error) {
	start := time.Now()
	n, err := t.sw.Sweep(ctx)
	t.m.observe(metriclabels.OpSweep, start, err)
	return n, err
}

// timedScanner times store.Scanner.
type timedScanner struct {
	sc store.Scanner
	m  *Metrics
}

// Scan records a scan that fn stopped with an error of its own as ok: the
// store did its part.
func (t *timedScanner) Scan(ctx context.Context, fn func(store.Entry) error) error {
	var stop error
	start := time.Now()
	err := t.sc.Scan(ctx, func(e store.Entry) error {
		stop = fn(e)
		return stop
	})
	if stop != nil && errors.Is(err, stop) {
		t.m.observe(metriclabels.OpScan, start, nil)
	} else {
		t.m.observe(metriclabels.OpScan, start, err)
	}
	return err
}

// timedCounter times store.Counter.
type timedCounter struct {
	c store.Counter
	m *Metrics
}

func (t *timedCounter) CountAnonymous(ctx context.Context) (int, error) {
	start := time.Now()
	n, err := t.c.CountAnonymous(ctx)
	t.m.observe(metriclabels.OpCountAnonymous, start, err)
	return n, err
}

// timedBatcher times store.Batcher.
type timedBatcher struct {
	b store.Batcher
	m *Metrics
}

// SaveBatch records a batch the store cannot run in its configuration
// (store.ErrUnsupported, on Redis Cluster) as unsupported, not error: the
// Manager then saves the records one at a time, and those saves are
// timed as such.
func (t *timedBatcher) SaveBatch(ctx context.Context, entries []store.Entry) error {
	start := time.Now()
	err := t.b.SaveBatch(ctx, entries)
	t.m.observe(metriclabels.OpSaveBatch, start, err)
	return err
}

// timedLoader times store.RecordLoader, as a load: LoadRecord is Load
// into the caller's record, and its results are Load's.
type timedLoader struct {
	l store.RecordLoader
	m *Metrics
}

func (t *timedLoader) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	start := time.Now()
	err := t.l.LoadRecord(ctx, key, rec)
	t.m.observe(metriclabels.OpLoad, start, err)
	return err
}

// closer passes Close to a store that has it, untimed: closing is no
// store call of a request.
type closer struct{ c io.Closer }

func (c *closer) Close() error { return c.c.Close() }

// nonBlocking reports what the wrapped store does: observing a histogram
// waits for no I/O, so the wrapper blocks only where the store does.
type nonBlocking struct{ nb store.NonBlocking }

func (n *nonBlocking) NeverBlocks() bool { return n.nb.NeverBlocks() }
