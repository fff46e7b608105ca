package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"time"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/internal/sqlrec"

	_ "modernc.org/sqlite" // registers the "sqlite" driver that Open uses
)

// Store is a session store in one table of an SQLite database. It implements
// [store.Store], [store.UserIndex], [store.Sweeper] and
// [store.RecordLoader]. Its methods are safe for concurrent use; each runs
// at most one SQL statement (Sweep one per batch). It starts no goroutine of
// its own. Create a Store with Open or New; the zero Store is not usable.
type Store struct {
	db    *sql.DB
	owned bool // Open opened db, so Close closes it
	now   func() time.Time
	batch int
	table string
	sql   *statements

	writing gate // shared by the stores on db
	doomed  doomedSaves
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.UserIndex    = (*Store)(nil)
	_ store.Sweeper      = (*Store)(nil)
	_ store.RecordLoader = (*Store)(nil)
	_ io.Closer          = (*Store)(nil)
)

// Open opens, or creates, the SQLite database file at path, with the
// settings of [DSN], and creates the store's table and indexes in it if
// they do not exist (see [Store.Migrate]). It fails unless the database
// can use write-ahead logging, which needs a file (":memory:" is refused)
// on a local file system (over NFS or SMB it may be refused, or worse,
// seem to work while other hosts corrupt it). Close closes the database.
//
// Open keeps at most max(4, GOMAXPROCS) connections; use New with a
// *sql.DB of your own to choose otherwise.
func Open(path string, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", DSN(path, cfg))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open: %w", err)
	}
	conns := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	s := newStore(db, cfg)
	s.owned = true
	ctx := context.Background()
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite store: open: %w", err)
	}
	if mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("sqlite store: open %s: journal mode is %q, not wal: the database must be a file on a local file system", path, mode)
	}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// New returns a store that keeps its sessions in the table named by cfg,
// through db, which must use the driver of modernc.org/sqlite, or another
// SQLite driver. It checks cfg but does not touch the database: call
// [Store.Migrate] once at startup to create the table, or create it from
// [Schema] with your own migrations. Open db with the settings of
// [DSN] (write-ahead logging and a busy timeout on every connection).
// Close does not close db.
func New(db *sql.DB, cfg Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlite store: nil *sql.DB")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return newStore(db, cfg), nil
}

func newStore(db *sql.DB, cfg Config) *Store {
	return &Store{
		db:      db,
		now:     cfg.Now,
		batch:   cfg.SweepBatch,
		table:   cfg.Table,
		sql:     newStatements(cfg.Table),
		writing: gateFor(db),
	}
}

// Table returns the table the store uses, as configured.
func (s *Store) Table() string {
	return s.table
}

// Close closes the store's prepared statements, and the database if Open
// opened it: a store made by New leaves the caller's *sql.DB open.
// Afterwards every method returns an error wrapping [ErrClosed]; calls
// already in progress may complete. Closing a closed store does nothing.
func (s *Store) Close() error {
	first, err := s.sql.close()
	if !first {
		return nil
	}
	if s.owned {
		err = errors.Join(err, s.db.Close())
	}
	if err != nil {
		return fmt.Errorf("sqlite store: close: %w", err)
	}
	return nil
}

// exec runs p with args and returns how many rows it changed.
func (s *Store) exec(ctx context.Context, p *prepared, args ...any) (int64, error) {
	st, err := s.sql.get(ctx, s.db, p)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// query runs p with args and returns its rows.
func (s *Store) query(ctx context.Context, p *prepared, args ...any) (*sql.Rows, error) {
	st, err := s.sql.get(ctx, s.db, p)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// Load returns the record stored under key, or [store.ErrNotFound] if there
// is none or it has expired.
func (s *Store) Load(ctx context.Context, key string) (*store.Record, error) {
	rec := new(store.Record)
	if err := s.LoadRecord(ctx, key, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// LoadRecord sets *rec to the live record under key, as Load returns it,
// without allocating a Record, or reports [store.ErrNotFound].
func (s *Store) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	st, err := s.sql.get(ctx, s.db, s.sql.load)
	if err != nil {
		return fmt.Errorf("sqlite store: load: %w", err)
	}
	seq := s.doomed.tick()
	var out store.Record
	err = sqlrec.ScanInto(&out, st.QueryRowContext(ctx, key, storekit.Nanos(s.now())).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		s.doomed.observe(seq, key, 0)
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite store: load: %w", err)
	}
	s.doomed.observe(seq, key, out.Version)
	*rec = out
	return nil
}

// Save stores rec under key if the stored version is rec.Version (0 for no
// live record), in one statement, and reports [store.ErrConflict]
// otherwise. A save that waited for another write of the same database
// fails without a statement when the store has meanwhile seen the key at
// another version (see the package documentation, Consistency).
func (s *Store) Save(ctx context.Context, key string, rec *store.Record) error {
	if rec.Version > math.MaxInt64 {
		return store.ErrConflict // no stored version is this high
	}
	mark := s.doomed.now()
	if err := s.beginWrite(ctx); err != nil {
		return fmt.Errorf("sqlite store: save: %w", err)
	}
	defer s.endWrite()
	seq := s.doomed.tick()
	if s.doomed.doomed(mark, key, rec.Version) {
		return store.ErrConflict
	}
	now := storekit.Nanos(s.now())
	data := rec.Data
	if data == nil {
		data = []byte{} // nil would be NULL
	}
	var n int64
	var err error
	if rec.Version == 0 {
		n, err = s.exec(ctx, s.sql.create, key, rec.UserID,
			storekit.Nanos(rec.Created), storekit.Nanos(rec.LastSeen), storekit.Nanos(rec.AuthTime), storekit.Nanos(rec.Expires), storekit.Nanos(rec.Deadline),
			rec.Persistent, rec.IP, rec.UserAgent, data, now)
	} else {
		n, err = s.exec(ctx, s.sql.update, key, int64(rec.Version), rec.UserID,
			storekit.Nanos(rec.Created), storekit.Nanos(rec.LastSeen), storekit.Nanos(rec.AuthTime), storekit.Nanos(rec.Expires), storekit.Nanos(rec.Deadline),
			rec.Persistent, rec.IP, rec.UserAgent, data, now)
	}
	switch {
	case err != nil:
		return fmt.Errorf("sqlite store: save: %w", err)
	case n == 0:
		return store.ErrConflict
	}
	s.doomed.observe(seq, key, rec.Version+1)
	return nil
}

// Delete removes the record stored under key, if any.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.beginWrite(ctx); err != nil {
		return fmt.Errorf("sqlite store: delete: %w", err)
	}
	defer s.endWrite()
	seq := s.doomed.tick()
	if _, err := s.exec(ctx, s.sql.delete, key); err != nil {
		return fmt.Errorf("sqlite store: delete: %w", err)
	}
	s.doomed.observe(seq, key, 0)
	return nil
}

// Touch sets LastSeen and Expires of the live record under key, keeping its
// version, or reports [store.ErrNotFound] if there is none. It never
// creates a record.
func (s *Store) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	if err := s.beginWrite(ctx); err != nil {
		return fmt.Errorf("sqlite store: touch: %w", err)
	}
	defer s.endWrite()
	n, err := s.exec(ctx, s.sql.touch, key, storekit.Nanos(lastSeen), storekit.Nanos(expires), storekit.Nanos(s.now()))
	switch {
	case err != nil:
		return fmt.Errorf("sqlite store: touch: %w", err)
	case n == 0:
		return store.ErrNotFound
	}
	return nil
}

// beginWrite waits until no other write through the store's *sql.DB runs,
// or ctx is done. Every successful call must be followed by one call of
// endWrite.
func (s *Store) beginWrite(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.writing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) endWrite() {
	<-s.writing
}
