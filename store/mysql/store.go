package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/internal/sqlrec"
)

// Store is a session store in one MySQL or MariaDB table. It implements
// [store.Store], [store.UserIndex], [store.Sweeper] and
// [store.RecordLoader]. Its methods are safe for concurrent use and each
// makes one round trip to the server, except DeleteUser (two) and Sweep (one
// per batch). It owns nothing: the pool is the caller's to close, and it
// starts no goroutine. Create a Store with New; the zero Store is not
// usable.
type Store struct {
	db         *sql.DB
	table      string // unquoted, as validated by tableRule
	quoted     string // table in backquotes
	now        func() time.Time
	sweepBatch int
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.UserIndex    = (*Store)(nil)
	_ store.Sweeper      = (*Store)(nil)
	_ store.RecordLoader = (*Store)(nil)
)

// New returns a store that keeps its records in the table named by cfg, in
// the database that db connects to. db should come from sql.Open("mysql",
// dsn) with github.com/go-sql-driver/mysql; every DSN option that changes
// how values are sent (interpolateParams, clientFoundRows, charset,
// parseTime) is fine, since the store sends only literal hexadecimal
// strings and integers. New makes no round trip: call Migrate, or run the
// statement of [Schema], before using the store. It reports an error if
// db is nil or cfg is invalid.
func New(db *sql.DB, cfg Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("mysql store: nil *sql.DB")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Store{
		db:         db,
		table:      cfg.Table,
		quoted:     "`" + cfg.Table + "`",
		now:        cfg.Now,
		sweepBatch: cfg.SweepBatch,
	}, nil
}

// Table returns the name of the store's table.
func (s *Store) Table() string {
	return s.table
}

// selectColumns are the columns that Load and ListUser read into a record,
// in the order of scanRecord.
const selectColumns = "version, user_id, created, last_seen, auth_time, expires, deadline, persistent, ip, user_agent, data"

// Load returns the record stored under key, or [store.ErrNotFound] if there
// is none or it has expired. It is one SELECT by primary key.
func (s *Store) Load(ctx context.Context, key string) (*store.Record, error) {
	rec := new(store.Record)
	if err := s.LoadRecord(ctx, key, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// LoadRecord sets *rec to the live record under key, as Load returns it,
// without allocating a Record, or reports [store.ErrNotFound]. It is one
// SELECT by primary key.
func (s *Store) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	q := make(query, 0, 256).
		sql("SELECT " + selectColumns + " FROM ").sql(s.quoted).
		sql(" WHERE session_key = ").str(key).
		sql(" AND live_until > ").int(storekit.Nanos(s.now()))
	var out store.Record
	err := sqlrec.ScanInto(&out, s.db.QueryRowContext(ctx, string(q)).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mysql store: load: %w", err)
	}
	*rec = out
	return nil
}

// Save writes rec under key if the stored version is rec.Version (0 for
// no live record), and reports [store.ErrConflict] otherwise. Each case is
// one statement: an INSERT ... ON DUPLICATE KEY UPDATE for version 0, an
// UPDATE guarded by the version and the record's liveness otherwise. The
// key may hold 255 bytes, the user ID and IP 255, the user agent 1024;
// Save reports an error for longer ones.
func (s *Store) Save(ctx context.Context, key string, rec *store.Record) error {
	if err := checkLengths(key, rec); err != nil {
		return fmt.Errorf("mysql store: save: %w", err)
	}
	now := storekit.Nanos(s.now())
	if rec.Version == 0 {
		return s.create(ctx, key, rec, now)
	}
	return s.update(ctx, key, rec, now)
}

// checkLengths reports a key or a field of rec too long for its column.
func checkLengths(key string, rec *store.Record) error {
	for _, f := range [...]struct {
		what string
		n    int
		max  int
	}{
		{"key", len(key), maxKey},
		{"user ID", len(rec.UserID), maxUserID},
		{"IP", len(rec.IP), maxIP},
		{"user agent", len(rec.UserAgent), maxUserAgent},
	} {
		if f.n > f.max {
			return fmt.Errorf("%s of %d bytes is longer than the column's %d", f.what, f.n, f.max)
		}
	}
	return nil
}

// recordColumns are the columns that Save writes from a record's fields,
// each with the function that appends its value.
var recordColumns = [...]struct {
	name  string
	value func(q query, r *store.Record) query
}{
	{"user_id", func(q query, r *store.Record) query { return q.str(r.UserID) }},
	{"created", func(q query, r *store.Record) query { return q.int(storekit.Nanos(r.Created)) }},
	{"last_seen", func(q query, r *store.Record) query { return q.int(storekit.Nanos(r.LastSeen)) }},
	{"auth_time", func(q query, r *store.Record) query { return q.int(storekit.Nanos(r.AuthTime)) }},
	{"expires", func(q query, r *store.Record) query { return q.int(storekit.Nanos(r.Expires)) }},
	{"deadline", func(q query, r *store.Record) query { return q.int(storekit.Nanos(r.Deadline)) }},
	{"persistent", func(q query, r *store.Record) query { return q.bool(r.Persistent) }},
	{"ip", func(q query, r *store.Record) query { return q.str(r.IP) }},
	{"user_agent", func(q query, r *store.Record) query { return q.str(r.UserAgent) }},
	{"data", func(q query, r *store.Record) query { return q.bytes(r.Data) }},
}

// liveUntil is the value of the live_until column for rec: the record is
// live while the current time is before both Expires and Deadline.
func liveUntil(rec *store.Record) int64 {
	return min(storekit.Nanos(rec.Expires), storekit.Nanos(rec.Deadline))
}

// statementSize estimates the length of a statement that carries rec's
// values copies times, its variable fields as hexadecimal literals, so
// that it is built without growing its buffer.
func statementSize(rec *store.Record, copies int) int {
	return copies * (1024 + 2*(len(rec.UserID)+len(rec.IP)+len(rec.UserAgent)+len(rec.Data)))
}

// create saves rec as a new record under key: an INSERT that succeeds when
// there is no row, and whose ON DUPLICATE KEY UPDATE replaces a row only if
// it has expired (live_until <= now) and otherwise leaves it as it was.
//
// MySQL and MariaDB evaluate the assignments of ON DUPLICATE KEY UPDATE
// left to right, each seeing the columns assigned before it, so every
// assignment tests live_until, which is assigned last. The outcome is read
// from the result, whatever the DSN's clientFoundRows:
//
//   - a new row: 1 row affected, insert ID 0;
//   - an expired row replaced: 2 rows affected (touched flips, so the row
//     changes even if the new record equals the expired one), insert ID 0;
//   - a live row kept: 0 rows affected (1 with clientFoundRows=true), and
//     the insert ID is its version: MySQL and MariaDB document that a
//     statement that sets a column with LAST_INSERT_ID(expr) sends expr to
//     the client as its insert ID (mysql_insert_id), and IF evaluates only
//     the branch it takes. Versions start at 1, so the ID is not 0; the
//     table has no AUTO_INCREMENT column, so in the other cases it is.
//
// The values appear twice, in VALUES and in the update clause, because the
// VALUES(col) function is deprecated in MySQL 8.0.20 and its replacement,
// a row alias (VALUES (...) AS new), is not accepted by MariaDB.
func (s *Store) create(ctx context.Context, key string, rec *store.Record, now int64) error {
	q := make(query, 0, statementSize(rec, 2)).
		sql("INSERT INTO ").sql(s.quoted).sql(" (session_key, version, touched")
	for _, c := range recordColumns {
		q = q.sql(", ").sql(c.name)
	}
	q = q.sql(", live_until) VALUES (").str(key).sql(", 1, 0")
	var spans [len(recordColumns)][2]int
	for i, c := range recordColumns {
		q = q.sql(", ")
		spans[i][0] = len(q)
		q = c.value(q, rec)
		spans[i][1] = len(q)
	}
	q = q.sql(", ").int(liveUntil(rec)).sql(")")

	live := make(query, 0, 48).sql("IF(live_until > ").int(now).sql(", ")
	q = append(q.sql(" ON DUPLICATE KEY UPDATE version = "), live...).sql("LAST_INSERT_ID(version), 1)")
	q = append(q.sql(", touched = "), live...).sql("touched, 1 - touched)")
	for i, c := range recordColumns {
		q = append(q.sql(", ").sql(c.name).sql(" = "), live...).sql(c.name).sql(", ")
		q = append(q, q[spans[i][0]:spans[i][1]]...).sql(")")
	}
	q = append(q.sql(", live_until = "), live...).sql("live_until, ").int(liveUntil(rec)).sql(")")

	res, err := s.db.ExecContext(ctx, string(q))
	if err != nil {
		return fmt.Errorf("mysql store: save: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("mysql store: save: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("mysql store: save: %w", err)
	}
	switch {
	case n == 0 || id != 0:
		return store.ErrConflict
	case n == 1 || n == 2:
		return nil
	}
	return fmt.Errorf("mysql store: save: create affected %d rows, want 1 or 2", n)
}

// update saves rec over the live record under key whose version is
// rec.Version: one UPDATE whose WHERE clause is the compare-and-set. The
// version always changes, so the row counts as affected whatever the
// DSN's clientFoundRows.
func (s *Store) update(ctx context.Context, key string, rec *store.Record, now int64) error {
	q := make(query, 0, statementSize(rec, 1)).
		sql("UPDATE ").sql(s.quoted).sql(" SET version = version + 1")
	for _, c := range recordColumns {
		q = c.value(q.sql(", ").sql(c.name).sql(" = "), rec)
	}
	q = q.sql(", live_until = ").int(liveUntil(rec)).
		sql(" WHERE session_key = ").str(key).
		sql(" AND version = ").uint(rec.Version).
		sql(" AND live_until > ").int(now)
	n, err := s.exec(ctx, q)
	if err != nil {
		return fmt.Errorf("mysql store: save: %w", err)
	}
	if n == 0 {
		return store.ErrConflict
	}
	return nil
}

// exec runs q and returns how many rows it affected.
func (s *Store) exec(ctx context.Context, q query) (int64, error) {
	res, err := s.db.ExecContext(ctx, string(q))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Delete removes the record stored under key, if any: one DELETE by
// primary key.
func (s *Store) Delete(ctx context.Context, key string) error {
	q := make(query, 0, 256).
		sql("DELETE FROM ").sql(s.quoted).sql(" WHERE session_key = ").str(key)
	if _, err := s.exec(ctx, q); err != nil {
		return fmt.Errorf("mysql store: delete: %w", err)
	}
	return nil
}

// Touch sets LastSeen and Expires of the live record under key, keeping its
// version, or reports [store.ErrNotFound] if there is none: one UPDATE
// guarded by the record's liveness. It also flips the touched column, so
// that a touch that repeats the stored times still changes the row and
// counts as affected, whatever the DSN's clientFoundRows.
func (s *Store) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	e := storekit.Nanos(expires)
	q := make(query, 0, 320).
		sql("UPDATE ").sql(s.quoted).
		sql(" SET last_seen = ").int(storekit.Nanos(lastSeen)).
		sql(", expires = ").int(e).
		sql(", live_until = LEAST(deadline, ").int(e).
		sql("), touched = 1 - touched WHERE session_key = ").str(key).
		sql(" AND live_until > ").int(storekit.Nanos(s.now()))
	n, err := s.exec(ctx, q)
	if err != nil {
		return fmt.Errorf("mysql store: touch: %w", err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
