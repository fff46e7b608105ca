package mysql_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/mysql"
)

// call is one store method called with fixed arguments, named by the
// operation its errors name.
type call struct {
	op string
	do func(ctx context.Context) error
}

// calls returns a call of every method of s, on key.
func calls(s *mysql.Store, key string) []call {
	now := time.Now()
	return []call{
		{"migrate", s.Migrate},
		{"load", func(ctx context.Context) error { _, err := s.Load(ctx, key); return err }},
		{"save", func(ctx context.Context) error { return s.Save(ctx, key, liveRecord("A", now.Add(time.Hour))) }},
		{"save", func(ctx context.Context) error {
			rec := liveRecord("A", now.Add(time.Hour))
			rec.Version = 1
			return s.Save(ctx, key, rec)
		}},
		{"touch", func(ctx context.Context) error { return s.Touch(ctx, key, now, now.Add(time.Hour)) }},
		{"delete", func(ctx context.Context) error { return s.Delete(ctx, key) }},
		{"list user", func(ctx context.Context) error { _, err := s.ListUser(ctx, "A"); return err }},
		{"delete user", func(ctx context.Context) error { _, err := s.DeleteUser(ctx, "A"); return err }},
		{"sweep", func(ctx context.Context) error { _, err := s.Sweep(ctx); return err }},
	}
}

// closedPort returns the address of a TCP port on 127.0.0.1 that nothing
// listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestUnreachableServerErrorsNameTheStore needs no server: it points a
// store at a closed port.
func TestUnreachableServerErrorsNameTheStore(t *testing.T) {
	t.Parallel()
	cfg := driver.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.DBName = "tcp", closedPort(t), "root", "test"
	cfg.Timeout = time.Second
	c, err := driver.NewConnector(cfg)
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	s, err := mysql.New(db, mysql.Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, c := range calls(s, testKey(1)) {
		err := c.do(ctx)
		prefix := "mysql store: " + c.op + ": "
		switch {
		case err == nil:
			t.Errorf("%s: got a nil error from a closed port, want one", c.op)
		case !strings.HasPrefix(err.Error(), prefix):
			t.Errorf("%s: got error %q, want it to start with %q", c.op, err, prefix)
		case !errors.Is(err, syscall.ECONNREFUSED):
			t.Errorf("%s: got error %v, want it to wrap %v", c.op, err, syscall.ECONNREFUSED)
		case errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict):
			t.Errorf("%s: got error %v, a sentinel for a live server's answer", c.op, err)
		}
	}
}

// connectionIDs opens n connections of db at once, so that they are n
// distinct connections, and returns the server's IDs for them. It leaves
// them idle in the pool.
func connectionIDs(t *testing.T, db *sql.DB, n int) []int64 {
	t.Helper()
	ctx := t.Context()
	ids := make([]int64, n)
	conns := make([]*sql.Conn, n)
	for i := range conns {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatalf("Conn: %v", err)
		}
		conns[i] = c
		if err := c.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&ids[i]); err != nil {
			t.Fatalf("CONNECTION_ID: %v", err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	return ids
}

// kill kills the server connections ids from another pool and waits until
// the server no longer lists them.
func kill(t *testing.T, ids ...int64) {
	t.Helper()
	admin := sharedDB(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a guard: it takes milliseconds
	defer cancel()
	for _, id := range ids {
		if _, err := admin.ExecContext(ctx, fmt.Sprintf("KILL %d", id)); err != nil {
			t.Fatalf("KILL %d: %v", id, err)
		}
	}
	for _, id := range ids {
		for {
			var n int
			q := fmt.Sprintf("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %d", id)
			if err := admin.QueryRowContext(ctx, q).Scan(&n); err != nil {
				t.Fatalf("waiting for connection %d to end: %v", id, err)
			}
			if n == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestStoreRecoversAfterItsConnectionsAreKilled(t *testing.T) {
	t.Parallel()
	const conns = 3
	db := openDB(t, nil)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	s := newStore(t, db, mysql.Config{})
	key := testKey(7)
	if err := s.Save(t.Context(), key, liveRecord("A", time.Now().Add(time.Hour))); err != nil {
		t.Fatalf("Save: %v", err)
	}

	kill(t, connectionIDs(t, db, conns)...)

	// Every call finds only dead connections in the pool at first. The
	// driver notices a dead connection before it sends anything and
	// database/sql then dials a new one, so calls should just work; any
	// error on the way must still name the store.
	for _, c := range calls(s, key) {
		var err error
		for range 3 {
			if err = c.do(t.Context()); err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				break
			}
			if prefix := "mysql store: " + c.op + ": "; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("%s after the kill: got error %q, want it to start with %q", c.op, err, prefix)
			}
			t.Logf("%s after the kill: %v (retrying)", c.op, err)
		}
		if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after the kill: still failing after 3 calls: %v", c.op, err)
		}
	}
}

// TestKillingABlockedStatementFailsItWithAWrappedError blocks a Touch on a
// row lock taken by another connection, kills the Touch's connection, and
// checks that the Touch returns at once with an error naming the store.
// Then it does the same with a context deadline instead of a kill.
func TestKillingABlockedStatementFailsItWithAWrappedError(t *testing.T) {
	t.Parallel()
	db := openDB(t, nil)
	s := newStore(t, db, mysql.Config{})
	key := testKey(8)
	now := time.Now()
	if err := s.Save(t.Context(), key, liveRecord("A", now.Add(time.Hour))); err != nil {
		t.Fatalf("Save: %v", err)
	}
	lockRow := func() *sql.Tx {
		tx, err := sharedDB(t).BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatalf("BeginTx: %v", err)
		}
		if _, err := tx.ExecContext(t.Context(), "SELECT version FROM `"+s.Table()+"` WHERE session_key = '"+key+"' FOR UPDATE"); err != nil {
			t.Fatalf("locking the row: %v", err)
		}
		return tx
	}

	t.Run("killed", func(t *testing.T) {
		tx := lockRow()
		defer tx.Rollback()
		const guard = 30 * time.Second // a Touch the kill did not end would wait this long
		ctx, cancel := context.WithTimeout(t.Context(), guard)
		defer cancel()
		var err error
		var wg sync.WaitGroup
		wg.Go(func() { err = s.Touch(ctx, key, now, now.Add(2*time.Hour)) })
		id := waitForStatement(t, "UPDATE `"+s.Table()+"`%")
		start := time.Now()
		kill(t, id)
		wg.Wait()
		// At once is milliseconds (logged); half the guard is a margin
		// no loaded machine comes near.
		took := time.Since(start)
		t.Logf("Touch returned %v after its connection was killed", took)
		if took > guard/2 {
			t.Errorf("Touch returned %v after its connection was killed, want at once", took)
		}
		if err == nil || !strings.HasPrefix(err.Error(), "mysql store: touch: ") || errors.Is(err, store.ErrNotFound) {
			t.Errorf("Touch on a killed connection: got error %v, want a system error starting with %q", err, "mysql store: touch: ")
		}
		t.Logf("Touch on a killed connection: %v", err)
	})
	t.Run("timed out", func(t *testing.T) {
		tx := lockRow()
		defer tx.Rollback()
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Touch(ctx, key, now, now.Add(3*time.Hour))
		// A Touch that ignored its deadline would wait for the lock
		// until the server's lock wait timeout (50 s by default). 15 s is
		// a margin over the deadline no loaded machine comes near.
		took := time.Since(start)
		t.Logf("Touch past its 300ms deadline returned after %v", took)
		if took > 15*time.Second {
			t.Errorf("Touch returned %v after its deadline, want at once", took)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "mysql store: touch: ") {
			t.Errorf("Touch past its deadline: got error %v, want one starting with %q and wrapping %v", err, "mysql store: touch: ", context.DeadlineExceeded)
		}
	})
	if _, err := s.Load(t.Context(), key); err != nil {
		t.Errorf("Load once the row is unlocked: got error %v, want nil", err)
	}
}

// waitForStatement waits until the server runs a statement whose text is
// LIKE pattern and returns the ID of its connection.
func waitForStatement(t *testing.T, pattern string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a guard: it takes milliseconds
	defer cancel()
	for {
		var id int64
		err := sharedDB(t).QueryRowContext(ctx,
			"SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()", pattern).Scan(&id)
		if err == nil {
			return id
		}
		if !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("waiting for %q: %v", pattern, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
