package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
)

// prepared is one statement of a Store, prepared on first use and then
// reused: SQLite compiles a statement's text every time it is run
// unprepared, which takes about a third of a Load.
//
// Preparation waits for first use because New may be given a database
// whose table does not exist yet, and SQLite refuses to prepare a statement
// on a missing table. database/sql then prepares it again on each pooled
// connection that runs it, once per connection.
type prepared struct {
	text string
	stmt atomic.Pointer[sql.Stmt]
}

// statementSet is every prepared statement of a Store, and whether the
// store has been closed, which stops further preparation.
type statementSet struct {
	mu     sync.Mutex // held while preparing or closing
	closed bool
	all    []*prepared
}

// get returns p prepared on db, preparing it if this is its first use. It
// reports ErrClosed once the set is closed.
func (ss *statementSet) get(ctx context.Context, db *sql.DB, p *prepared) (*sql.Stmt, error) {
	if st := p.stmt.Load(); st != nil {
		return st, nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return nil, ErrClosed
	}
	if st := p.stmt.Load(); st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, p.text)
	if err != nil {
		return nil, err
	}
	p.stmt.Store(st)
	return st, nil
}

// isClosed reports whether close has been called.
func (ss *statementSet) isClosed() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.closed
}

// close closes every prepared statement; get then reports ErrClosed. A
// statement in use by a call in progress is closed when that call ends.
// It reports first=false, and does nothing, if the set was already closed.
func (ss *statementSet) close() (first bool, err error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false, nil
	}
	ss.closed = true
	for _, p := range ss.all {
		if st := p.stmt.Swap(nil); st != nil {
			err = errors.Join(err, st.Close())
		}
	}
	return true, err
}
