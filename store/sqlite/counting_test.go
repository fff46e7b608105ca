package sqlite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync/atomic"
	"testing"
)

// counts are the statements a counting *sql.DB has run, by kind. SQLite is
// embedded, so a "round trip" is one statement executed by the engine: a
// query or exec reaching the driver, whether prepared or not. Preparing a
// statement is counted apart; database/sql prepares a store's statements
// once per pooled connection.
type counts struct {
	reads, writes, prepares atomic.Int64
	// sweeps counts the executions of the sweep statement, to check that
	// Sweep deletes in batches.
	sweeps atomic.Int64
}

// snapshot returns the reads and writes counted so far.
func (c *counts) snapshot() (reads, writes int64) {
	return c.reads.Load(), c.writes.Load()
}

// count records one execution of query.
func (c *counts) count(query string) {
	q := strings.TrimSpace(query)
	if strings.HasPrefix(strings.ToUpper(q), "SELECT") {
		c.reads.Add(1)
		return
	}
	c.writes.Add(1)
	if strings.Contains(q, "WHERE rowid IN") {
		c.sweeps.Add(1)
	}
}

// openCounting opens the database file at path through modernc.org/sqlite,
// with the settings of sqlite.DSN, behind a driver that counts every
// statement it runs. It closes the *sql.DB when the test ends.
func openCounting(tb testing.TB, dsn string) (*sql.DB, *counts) {
	tb.Helper()
	plain, err := sql.Open("sqlite", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	drv := plain.Driver()
	plain.Close()
	c := new(counts)
	db := sql.OpenDB(&countingConnector{drv: drv, dsn: dsn, c: c})
	tb.Cleanup(func() { db.Close() })
	return db, c
}

type countingConnector struct {
	drv driver.Driver
	dsn string
	c   *counts
}

func (k *countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := k.drv.Open(k.dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: k.c}, nil
}

func (k *countingConnector) Driver() driver.Driver { return k.drv }

// countingConn wraps a connection of modernc.org/sqlite, which implements
// the context-aware interfaces that it forwards.
type countingConn struct {
	driver.Conn
	c *counts
}

func (cc *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	cc.c.prepares.Add(1)
	st, err := cc.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, query: query, c: cc.c}, nil
}

func (cc *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cc.c.count(query)
	return cc.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (cc *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cc.c.count(query)
	return cc.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (cc *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return cc.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (cc *countingConn) ResetSession(ctx context.Context) error {
	return cc.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (cc *countingConn) IsValid() bool {
	return cc.Conn.(driver.Validator).IsValid()
}

type countingStmt struct {
	driver.Stmt
	query string
	c     *counts
}

func (cs *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	cs.c.count(cs.query)
	return cs.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (cs *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	cs.c.count(cs.query)
	return cs.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}
