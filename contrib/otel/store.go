package keycardotel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"reflect"
	"time"

	"github.com/keycard-go/keycard/internal/metriclabels"
	"github.com/keycard-go/keycard/store"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys of the store calls' spans.
const (
	// AttrStoreName names the wrapped store: the last element of its
	// package path ("memory", "redis", "postgres").
	AttrStoreName = attribute.Key("keycard.store.name")
	// AttrStoreResult is the call's result: "ok", "not_found" (an absent
	// or expired record), "conflict" (a compare-and-set save lost to a
	// concurrent writer), "unsupported" (a save_batch the store cannot
	// run in its configuration, such as on Redis Cluster, which wrote
	// nothing; the Manager then saves one record at a time) or "error"
	// (the store failed).
	AttrStoreResult = attribute.Key("keycard.store.result")
	// AttrStoreCount is how many records a list_user, delete_user,
	// sweep or scan call returned, deleted or visited, how many a
	// count_anonymous call counted, and how many a save_batch call was
	// given to save (all of them or, on a conflict, none are saved).
	AttrStoreCount = attribute.Key("keycard.store.count")
	// AttrErrorType classifies a failed call without its message:
	// "timeout", "canceled", "closed", "full", "corrupt", the Go type of
	// the first error in its chain that is more than fmt.Errorf's
	// wrapping or errors.New's message ("*net.OpError"), or "_OTHER".
	AttrErrorType = attribute.Key("error.type")
)

// The wrapper keeps the wrapped store's optional capabilities but
// store.NonBlocking, which tracedStore answers itself (see Store).
//
//go:generate go run github.com/keycard-go/keycard/internal/cmd/capsgen -pkg keycardotel -prefix traced -skip NonBlocking

// Store returns st with every call traced and timed. Set it as
// keycard.Config.Store.
//
// Each call of a request, or of anything else whose context carries a
// span, is a span named "keycard.store." plus its operation (load, save,
// delete, touch, and list_user, delete_user, sweep, scan,
// count_anonymous and save_batch where st has them; LoadRecord, where st
// has it, is a load as Load is), a child of that span, with the
// attributes AttrStoreName, AttrStoreResult, and AttrStoreCount or
// AttrErrorType where they apply. A call whose context carries no span,
// such as a background sweep, makes no span of its own: it is only
// timed. Keys, user IDs, records and error messages are never
// attributes: a key is the hash of a session ID, which a session's events
// name by its first 16 hex digits only.
//
// Every call, traced or not, is recorded in the keycard.store.duration
// histogram by operation and result.
//
// The returned store has exactly the optional capabilities of st
// (store.UserIndex, store.Sweeper, store.Scanner, store.Counter,
// store.Batcher, store.RecordLoader, io.Closer), since the Manager and
// tools discover them by type assertion: a wrapper that claimed a
// capability st lacks would pass keycard.Config.MaxSessionsPerUser's
// check and then fail at login, and one that hid a capability would cost
// a renewal a round trip more (store.Batcher), leave
// keycard.Config.Visitors.Max unenforceable (store.Counter) or cost each
// request a Record allocated (store.RecordLoader). It implements
// store.NonBlocking, and NeverBlocks reports false whatever st reports:
// ending a span can wait, for an exporter that a synchronous span
// processor calls or a batch processor that blocks when its queue is
// full, so the Manager must bound its calls with
// keycard.Config.StoreTimeout. Close, where st has it, closes
// st and is not traced. Its Unwrap method returns st.
func (t *Telemetry) Store(st store.Store) store.Store {
	base := &tracedStore{st: st, t: t, start: []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(AttrStoreName.String(storeName(st))),
	}}
	p := parts{base: base}
	if v, ok := st.(store.UserIndex); ok {
		p.index = &tracedIndex{base, v}
	}
	if v, ok := st.(store.Sweeper); ok {
		p.sweeper = &tracedSweeper{base, v}
	}
	if v, ok := st.(store.Scanner); ok {
		p.scanner = &tracedScanner{base, v}
	}
	if v, ok := st.(store.Counter); ok {
		p.counter = &tracedCounter{base, v}
	}
	if v, ok := st.(store.Batcher); ok {
		p.batcher = &tracedBatcher{base, v}
	}
	if v, ok := st.(io.Closer); ok {
		p.closer = &closer{v}
	}
	if v, ok := st.(store.RecordLoader); ok {
		p.loader = &tracedLoader{base, v}
	}
	return p.combine()
}

// storeName returns the last element of the package path of the store
// that st wraps, through any Unwrap methods: "memory" for a
// *memory.Store, also behind keycardprom's wrapper. A type without a
// package path (an unnamed struct) gives "store".
func storeName(st store.Store) string {
	for range 8 { // bounds an Unwrap that returns its own receiver
		u, ok := st.(interface{ Unwrap() store.Store })
		if !ok || u.Unwrap() == nil {
			break
		}
		st = u.Unwrap()
	}
	t := reflect.TypeOf(st)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if p := t.PkgPath(); p != "" {
		return path.Base(p)
	}
	return "store"
}

// tracedStore traces the methods every store has.
type tracedStore struct {
	st    store.Store
	t     *Telemetry
	start []trace.SpanStartOption // the span kind and AttrStoreName
}

var (
	_ store.Store       = (*tracedStore)(nil)
	_ store.NonBlocking = (*tracedStore)(nil)
)

// spanNames are the store calls' span names, by operation, made once.
var spanNames = func() map[string]string {
	names := make(map[string]string)
	for _, op := range metriclabels.Ops() {
		names[op] = "keycard.store." + op
	}
	return names
}()

// call is one store call in progress: its span, if its context carried
// one, and when it began.
type call struct {
	ctx   context.Context
	span  trace.Span // nil when the call is not traced
	op    string
	start time.Time
}

// begin starts a call of op: a span, a child of ctx's, if ctx carries one.
func (s *tracedStore) begin(ctx context.Context, op string) call {
	c := call{ctx: ctx, op: op}
	if trace.SpanContextFromContext(ctx).IsValid() {
		c.ctx, c.span = s.t.tracer.Start(ctx, spanNames[op], s.start...)
	}
	c.start = time.Now()
	return c
}

// end records c, which returned err, and ends its span. count, if not
// negative, is how many records the call returned, deleted or visited.
func (s *tracedStore) end(c call, err error, count int) {
	elapsed := time.Since(c.start).Seconds()
	result := metriclabels.ResultOf(err)
	if c.span != nil {
		c.span.SetAttributes(AttrStoreResult.String(result))
		if count >= 0 {
			c.span.SetAttributes(AttrStoreCount.Int(count))
		}
		if result == metriclabels.ResultError {
			kind := errorType(err)
			c.span.SetAttributes(AttrErrorType.String(kind))
			c.span.SetStatus(codes.Error, kind)
		}
		c.span.End()
	}
	s.t.store.Record(c.ctx, elapsed, s.t.measured[opResult{c.op, result}]...)
}

// errorType classifies err by the sentinel it wraps or else by the type of
// the first error in its chain that is not a plain wrapper or message
// (fmt.Errorf's and errors.New's): "*net.OpError", "*pgconn.PgError".
// It never uses an error's message, which may name a server, a database
// user or a key. An error made of messages only is "_OTHER", the
// OpenTelemetry convention's value for an unclassified error.
func errorType(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, store.ErrClosed):
		return "closed"
	case errors.Is(err, store.ErrFull):
		return "full"
	case errors.Is(err, store.ErrCorrupt):
		return "corrupt"
	}
	for range 32 { // bounds a chain that loops
		if err == nil {
			break
		}
		t := reflect.TypeOf(err)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if p := t.PkgPath(); p != "fmt" && p != "errors" {
			return fmt.Sprintf("%T", err)
		}
		err = errors.Unwrap(err)
	}
	return "_OTHER"
}

func (s *tracedStore) Load(ctx context.Context, key string) (*store.Record, error) {
	c := s.begin(ctx, metriclabels.OpLoad)
	rec, err := s.st.Load(c.ctx, key)
	s.end(c, err, -1)
	return rec, err
}

func (s *tracedStore) Save(ctx context.Context, key string, rec *store.Record) error {
	c := s.begin(ctx, metriclabels.OpSave)
	err := s.st.Save(c.ctx, key, rec)
	s.end(c, err, -1)
	return err
}

func (s *tracedStore) Delete(ctx context.Context, key string) error {
	c := s.begin(ctx, metriclabels.OpDelete)
	err := s.st.Delete(c.ctx, key)
	s.end(c, err, -1)
	return err
}

func (s *tracedStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	c := s.begin(ctx, metriclabels.OpTouch)
	err := s.st.Touch(c.ctx, key, lastSeen, expires)
	s.end(c, err, -1)
	return err
}

// NeverBlocks reports false: see Telemetry.Store.
func (s *tracedStore) NeverBlocks() bool { return false }

// Unwrap returns the store being traced.
func (s *tracedStore) Unwrap() store.Store { return s.st }

// tracedIndex traces store.UserIndex.
type tracedIndex struct {
	s  *tracedStore
	ix store.UserIndex
}

func (t *tracedIndex) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	c := t.s.begin(ctx, metriclabels.OpListUser)
	entries, err := t.ix.ListUser(c.ctx, userID)
	t.s.end(c, err, len(entries))
	return entries, err
}

func (t *tracedIndex) DeleteUser(ctx context.Context, userID string) (int, error) {
	c := t.s.begin(ctx, metriclabels.OpDeleteUser)
	n, err := t.ix.DeleteUser(c.ctx, userID)
	t.s.end(c, err, n)
	return n, err
}

// tracedSweeper traces store.Sweeper.
type tracedSweeper struct {
	s  *tracedStore
	sw store.Sweeper
}

func (t *tracedSweeper) Sweep(ctx context.Context) (int, error) {
	c := t.s.begin(ctx, metriclabels.OpSweep)
	n, err := t.sw.Sweep(c.ctx)
	t.s.end(c, err, n)
	return n, err
}

// tracedScanner traces store.Scanner.
type tracedScanner struct {
	s  *tracedStore
	sc store.Scanner
}

// Scan records a scan that fn stopped with an error of its own as ok: the
// store did its part. Its span lasts as long as the scan, fn's work
// included, and counts the records fn saw.
func (t *tracedScanner) Scan(ctx context.Context, fn func(store.Entry) error) error {
	var (
		stop error
		seen int
	)
	c := t.s.begin(ctx, metriclabels.OpScan)
	err := t.sc.Scan(c.ctx, func(e store.Entry) error {
		seen++
		stop = fn(e)
		return stop
	})
	if stop != nil && errors.Is(err, stop) {
		t.s.end(c, nil, seen)
	} else {
		t.s.end(c, err, seen)
	}
	return err
}

// tracedCounter traces store.Counter.
type tracedCounter struct {
	s *tracedStore
	c store.Counter
}

func (t *tracedCounter) CountAnonymous(ctx context.Context) (int, error) {
	c := t.s.begin(ctx, metriclabels.OpCountAnonymous)
	n, err := t.c.CountAnonymous(c.ctx)
	t.s.end(c, err, n)
	return n, err
}

// tracedBatcher traces store.Batcher.
type tracedBatcher struct {
	s *tracedStore
	b store.Batcher
}

// SaveBatch's span counts the records of the batch. A batch the store
// cannot run (store.ErrUnsupported) has result unsupported and no error
// status: the Manager then saves the records one at a time, each a save
// span of its own.
func (t *tracedBatcher) SaveBatch(ctx context.Context, entries []store.Entry) error {
	c := t.s.begin(ctx, metriclabels.OpSaveBatch)
	err := t.b.SaveBatch(c.ctx, entries)
	t.s.end(c, err, len(entries))
	return err
}

// tracedLoader traces store.RecordLoader, as a load: LoadRecord is Load
// into the caller's record, so its span, attributes and measurement are
// Load's.
type tracedLoader struct {
	s *tracedStore
	l store.RecordLoader
}

func (t *tracedLoader) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	c := t.s.begin(ctx, metriclabels.OpLoad)
	err := t.l.LoadRecord(c.ctx, key, rec)
	t.s.end(c, err, -1)
	return err
}

// closer passes Close to a store that has it, untraced: closing is no
// store call of a request.
type closer struct{ c io.Closer }

func (c *closer) Close() error { return c.c.Close() }
