package keycardprom

import (
	"context"
	"errors"
	"time"

	"github.com/keycard-go/keycard/internal/metriclabels"
	"github.com/keycard-go/keycard/store"
)

// Store returns st with every call timed in
// keycard_store_duration_seconds. Set it as keycard.Config.Store.
//
// The returned store has exactly the optional capabilities of st
// (store.UserIndex, store.Sweeper, store.Scanner), since the Manager and
// tools discover them by type assertion: a wrapper that claimed a
// capability st lacks would pass keycard.Config.MaxSessionsPerUser's
// check and then fail at login. Its Unwrap method returns st.
func (m *Metrics) Store(st store.Store) store.Store {
	base := &timedStore{st: st, m: m}
	ops := []string{metriclabels.OpLoad, metriclabels.OpSave, metriclabels.OpDelete, metriclabels.OpTouch}
	ix, hasIndex := st.(store.UserIndex)
	sw, hasSweeper := st.(store.Sweeper)
	sc, hasScanner := st.(store.Scanner)
	var (
		tix *timedIndex
		tsw *timedSweeper
		tsc *timedScanner
	)
	if hasIndex {
		tix = &timedIndex{ix: ix, m: m}
		ops = append(ops, metriclabels.OpListUser, metriclabels.OpDeleteUser)
	}
	if hasSweeper {
		tsw = &timedSweeper{sw: sw, m: m}
		ops = append(ops, metriclabels.OpSweep)
	}
	if hasScanner {
		tsc = &timedScanner{sc: sc, m: m}
		ops = append(ops, metriclabels.OpScan)
	}
	for _, op := range ops {
		// Start the series alerts watch at zero, so rate() sees the first
		// call of each.
		m.store.WithLabelValues(op, metriclabels.ResultOK)
		m.store.WithLabelValues(op, metriclabels.ResultError)
	}
	// One type per combination of capabilities: each embeds the parts it
	// has, so a type assertion finds exactly what st offers.
	switch {
	case hasIndex && hasSweeper && hasScanner:
		return struct {
			*timedStore
			*timedIndex
			*timedSweeper
			*timedScanner
		}{base, tix, tsw, tsc}
	case hasIndex && hasSweeper:
		return struct {
			*timedStore
			*timedIndex
			*timedSweeper
		}{base, tix, tsw}
	case hasIndex && hasScanner:
		return struct {
			*timedStore
			*timedIndex
			*timedScanner
		}{base, tix, tsc}
	case hasSweeper && hasScanner:
		return struct {
			*timedStore
			*timedSweeper
			*timedScanner
		}{base, tsw, tsc}
	case hasIndex:
		return struct {
			*timedStore
			*timedIndex
		}{base, tix}
	case hasSweeper:
		return struct {
			*timedStore
			*timedSweeper
		}{base, tsw}
	case hasScanner:
		return struct {
			*timedStore
			*timedScanner
		}{base, tsc}
	default:
		return base
	}
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
