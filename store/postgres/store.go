package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/internal/sqlrec"
)

// Store is a session store in one PostgreSQL table. It implements
// [store.Store], [store.UserIndex], [store.Sweeper] and
// [store.RecordLoader]. Its methods are safe for concurrent use; each is one
// SQL statement, one round trip. It starts no goroutine and owns nothing:
// the pool is the caller's to close. Create a Store with New; the zero Store
// is not usable.
type Store struct {
	pool  *pgxpool.Pool
	now   func() time.Time
	batch int
	table string
	sql   statements
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.UserIndex    = (*Store)(nil)
	_ store.Sweeper      = (*Store)(nil)
	_ store.RecordLoader = (*Store)(nil)
)

// New returns a store that keeps its sessions in the table named by cfg,
// through pool. It checks cfg but does not contact the server: call
// [Store.Migrate] once at startup to create the table, or create it from
// [Schema] with your own migrations. The store never closes pool.
func New(pool *pgxpool.Pool, cfg Config) (*Store, error) {
	if pool == nil {
		return nil, errors.New("postgres store: nil pool")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Store{pool: pool, now: cfg.Now, batch: cfg.SweepBatch, table: cfg.Table, sql: newStatements(cfg.Table)}, nil
}

// Table returns the table the store uses, as configured.
func (s *Store) Table() string {
	return s.table
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
	row := s.pool.QueryRow(ctx, s.sql.load, key, storekit.Nanos(s.now()))
	var out store.Record
	err := sqlrec.ScanInto(&out, row.Scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return wrap(ctx, "load", err)
	}
	*rec = out
	return nil
}

// Save stores rec under key if the stored version is rec.Version (0 for no
// live record), in one statement, and reports [store.ErrConflict]
// otherwise.
//
// Under REPEATABLE READ or SERIALIZABLE as the connection's default
// isolation, PostgreSQL aborts a statement whose row a concurrent
// transaction changed; Save, like every write of the store, then runs it
// once more in an explicit READ COMMITTED transaction (three round trips).
// Under READ COMMITTED, the default, this never happens.
func (s *Store) Save(ctx context.Context, key string, rec *store.Record) error {
	now := storekit.Nanos(s.now())
	data := rec.Data
	if data == nil {
		data = []byte{} // nil would be NULL
	}
	var tag pgconn.CommandTag
	var err error
	if rec.Version == 0 {
		tag, err = s.exec(ctx, s.sql.create, key, rec.UserID,
			storekit.Nanos(rec.Created), storekit.Nanos(rec.LastSeen), storekit.Nanos(rec.AuthTime), storekit.Nanos(rec.Expires), storekit.Nanos(rec.Deadline),
			rec.Persistent, rec.IP, rec.UserAgent, data, now)
	} else {
		tag, err = s.exec(ctx, s.sql.update, key, int64(rec.Version), rec.UserID,
			storekit.Nanos(rec.Created), storekit.Nanos(rec.LastSeen), storekit.Nanos(rec.AuthTime), storekit.Nanos(rec.Expires), storekit.Nanos(rec.Deadline),
			rec.Persistent, rec.IP, rec.UserAgent, data, now)
	}
	switch {
	case err != nil:
		return wrap(ctx, "save", err)
	case tag.RowsAffected() == 0:
		return store.ErrConflict
	}
	return nil
}

// Delete removes the record stored under key, if any.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, s.sql.delete, key); err != nil {
		return wrap(ctx, "delete", err)
	}
	return nil
}

// Touch sets LastSeen and Expires of the live record under key, keeping its
// version, or reports [store.ErrNotFound] if there is none. It never
// creates a record.
func (s *Store) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	tag, err := s.exec(ctx, s.sql.touch, key, storekit.Nanos(lastSeen), storekit.Nanos(expires), storekit.Nanos(s.now()))
	if err != nil {
		return wrap(ctx, "touch", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// querier runs statements: the pool, or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// write runs f, which makes one write statement, on the pool. Under READ
// COMMITTED, PostgreSQL's default, a statement that finds its row changed
// by a concurrent transaction re-checks its WHERE clause on the new row.
// Under REPEATABLE READ or SERIALIZABLE as the connection's default
// isolation, PostgreSQL aborts it with a serialization failure instead,
// having changed nothing; write then runs f once more in an explicit READ
// COMMITTED transaction, which re-checks rather than aborts.
func (s *Store) write(ctx context.Context, f func(q querier) error) error {
	err := f(s.pool)
	if !isSerializationFailure(err) {
		return err
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		return f(tx)
	})
}

// exec runs one write statement through write.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := s.write(ctx, func(q querier) (err error) {
		tag, err = q.Exec(ctx, sql, args...)
		return err
	})
	return tag, err
}

// isSerializationFailure reports whether err is PostgreSQL's
// serialization_failure (SQLSTATE 40001).
func isSerializationFailure(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40001"
}
