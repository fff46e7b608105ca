package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/postgres"
)

// calls returns one call of every method of s, by the prefix its errors
// must carry.
func calls(s *postgres.Store, key string) map[string]func(ctx context.Context) error {
	now := time.Now()
	rec := &store.Record{UserID: "A", Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	return map[string]func(ctx context.Context) error{
		"postgres store: load: ":        func(ctx context.Context) error { _, err := s.Load(ctx, key); return err },
		"postgres store: save: ":        func(ctx context.Context) error { return s.Save(ctx, key, rec) },
		"postgres store: delete: ":      func(ctx context.Context) error { return s.Delete(ctx, key) },
		"postgres store: touch: ":       func(ctx context.Context) error { return s.Touch(ctx, key, now, now.Add(time.Hour)) },
		"postgres store: list user: ":   func(ctx context.Context) error { _, err := s.ListUser(ctx, "A"); return err },
		"postgres store: delete user: ": func(ctx context.Context) error { _, err := s.DeleteUser(ctx, "A"); return err },
		"postgres store: sweep: ":       func(ctx context.Context) error { _, err := s.Sweep(ctx); return err },
		"postgres store: migrate: ":     s.Migrate,
	}
}

func TestAnUnreachableServerGivesWrappedErrors(t *testing.T) {
	t.Parallel()
	// A port that was free a moment ago, on this machine only.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	pool, err := pgxpool.New(context.Background(), fmt.Sprintf("postgres://postgres@%s/test?sslmode=disable&connect_timeout=2", addr))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := postgres.New(pool, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for prefix, call := range calls(s, testKey(1)) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		err := call(ctx)
		cancel()
		if err == nil || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("got error %v, want one starting %q", err, prefix)
		}
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("got error %v, want a connection error, not a sentinel", err)
		}
		var connErr *pgconn.ConnectError
		if !errors.As(err, &connErr) {
			t.Errorf("got error %v, want it to wrap a *pgconn.ConnectError", err)
		}
	}
}

func TestACancelledContextGivesWrappedErrorsForEveryMethod(t *testing.T) {
	t.Parallel()
	s := newStore(t, sharedPool(t), postgres.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for prefix, call := range calls(s, testKey(1)) {
		err := call(ctx)
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("got error %v, want a %v starting %q", err, context.Canceled, prefix)
		}
	}
}

// appPool returns a pool of its own whose connections carry a unique
// application_name, so a test can find and terminate its backends.
func appPool(t *testing.T) (*pgxpool.Pool, string) {
	name := uniqueName("keycard_test")
	return newPool(t, func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["application_name"] = name
		c.MaxConns = 4
	}), name
}

// terminate ends the backends of the connections named app and returns
// how many it ended.
func terminate(t *testing.T, app string, extra string) int {
	t.Helper()
	var n int
	err := sharedPool(t).QueryRow(t.Context(),
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 "+extra, app).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTerminatedConnectionsGiveWrappedErrorsThenRecover(t *testing.T) {
	t.Parallel()
	pool, app := appPool(t)
	s := newStore(t, pool, postgres.Config{})
	now := time.Now()
	key := testKey(1)
	rec := &store.Record{Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour), Data: []byte("kept")}
	if err := s.Save(t.Context(), key, rec); err != nil {
		t.Fatal(err)
	}
	// Open every connection of the pool, so all of them die.
	conns := make([]*pgxpool.Conn, 4)
	for i := range conns {
		c, err := pool.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Release()
	}
	if n := terminate(t, app, ""); n != 4 {
		t.Fatalf("terminated %d backends, want 4", n)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	failures := 0
	for attempt := 0; ; attempt++ {
		got, err := s.Load(ctx, key)
		if err == nil {
			if string(got.Data) != "kept" {
				t.Errorf("Load after reconnecting: got data %q, want kept", got.Data)
			}
			break
		}
		failures++
		if !strings.HasPrefix(err.Error(), "postgres store: load: ") || errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Load on a terminated connection: got error %v, want a wrapped connection error", err)
		}
		if attempt == 10 {
			t.Fatalf("Load still failing after %d attempts: %v", attempt+1, err)
		}
	}
	t.Logf("%d loads failed with a wrapped error before the pool reconnected", failures)
	rec.Version, rec.Data = 1, []byte("after")
	if err := s.Save(ctx, key, rec); err != nil {
		t.Errorf("Save after reconnecting: got error %v, want nil", err)
	}
}

// lockRow locks the row of key from another connection until the returned
// function rolls the lock back.
func lockRow(t *testing.T, s *postgres.Store, key string) (release func()) {
	t.Helper()
	tx, err := sharedPool(t).Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "SELECT 1 FROM "+s.Table()+" WHERE key = $1 FOR UPDATE", key); err != nil {
		tx.Rollback(context.Background())
		t.Fatal(err)
	}
	return func() { tx.Rollback(context.Background()) }
}

// waitForLockWait waits until a backend of app waits for a lock, for as
// long as a minute: the statement is sent at once, but a loaded machine
// may take a while to run the goroutine that sends it.
func waitForLockWait(t *testing.T, app string) {
	t.Helper()
	for limit := time.Now().Add(time.Minute); time.Now().Before(limit); {
		var n int
		err := sharedPool(t).QueryRow(t.Context(),
			"SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no backend of the store waits for the lock")
}

func TestAConnectionKilledMidStatementChangesNothing(t *testing.T) {
	t.Parallel()
	pool, app := appPool(t)
	s := newStore(t, pool, postgres.Config{})
	now := time.Now()
	key := testKey(1)
	rec := &store.Record{Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour), Data: []byte("v1")}
	if err := s.Save(t.Context(), key, rec); err != nil {
		t.Fatal(err)
	}
	release := lockRow(t, s, key)
	defer release()

	done := make(chan error, 1)
	go func() {
		update := rec.Clone()
		update.Version, update.Data = 1, []byte("v2")
		done <- s.Save(t.Context(), key, update)
	}()
	waitForLockWait(t, app)
	if n := terminate(t, app, "AND wait_event_type = 'Lock'"); n != 1 {
		t.Fatalf("terminated %d backends, want the 1 blocked save", n)
	}
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "postgres store: save: ") || errors.Is(err, store.ErrConflict) {
			t.Errorf("Save on a terminated connection: got error %v, want a wrapped connection error", err)
		}
	case <-time.After(time.Minute): // a guard: it returns at once
		t.Fatal("Save on a terminated connection did not return")
	}
	release()
	got, err := s.Load(t.Context(), key)
	if err != nil || got.Version != 1 || string(got.Data) != "v1" {
		t.Fatalf("Load: got %+v, %v, want version 1 with v1", got, err)
	}
	rec.Version, rec.Data = 1, []byte("v2")
	if err := s.Save(t.Context(), key, rec); err != nil {
		t.Errorf("Save(version 1) after the failure: got error %v, want nil", err)
	}
}

func TestAContextDeadlineEndsASaveBlockedOnALock(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		watcher func(*pgconn.PgConn) ctxwatch.Handler
		// cancels reports whether the server cancels the statement; if
		// not, it is applied once the lock is released, unknown to the
		// caller, which got an error.
		cancels bool
	}{
		"pgx's default: the connection is closed":      {watcher: nil, cancels: false},
		"a cancel request: the statement is cancelled": {watcher: cancelRequest, cancels: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			name := uniqueName("keycard_test")
			pool := newPool(t, func(c *pgxpool.Config) {
				c.ConnConfig.RuntimeParams["application_name"] = name
				if tc.watcher != nil {
					c.ConnConfig.BuildContextWatcherHandler = tc.watcher
				}
			})
			s := newStore(t, pool, postgres.Config{})
			now := time.Now()
			key := testKey(1)
			rec := &store.Record{Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour), Data: []byte("v1")}
			if err := s.Save(t.Context(), key, rec); err != nil {
				t.Fatal(err)
			}
			release := sync.OnceFunc(lockRow(t, s, key))
			defer release()
			// A Save that ignored its deadline would wait for the lock:
			// it is released after a while, so that the test reports
			// such a Save rather than hang.
			const lockHeld = 30 * time.Second
			defer time.AfterFunc(lockHeld, release).Stop()

			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			update := rec.Clone()
			update.Version, update.Data = 1, []byte("v2")
			err := s.Save(ctx, key, update)
			d := time.Since(start)
			t.Logf("Save past its 300ms deadline returned after %v", d)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "postgres store: save: ") {
				t.Errorf("Save past its deadline: got error %v, want a wrapped %v", err, context.DeadlineExceeded)
			}
			// It returns at the deadline, or a second later when the
			// cancel request does not end the statement; half the time
			// the lock is held is a margin no loaded machine comes near.
			if d > lockHeld/2 {
				t.Errorf("Save past its deadline returned after %v, want about 300ms, well before the lock is released", d)
			}
			release()
			if !tc.cancels {
				// The closed connection's backend goes on with the
				// statement; whether it has yet is a matter of timing.
				return
			}
			got, err := s.Load(t.Context(), key)
			if err != nil || got.Version != 1 || string(got.Data) != "v1" {
				t.Errorf("Load after the cancelled save: got %+v, %v, want version 1 with v1", got, err)
			}
		})
	}
}

// cancelRequest makes pgconn answer a cancelled context with a cancel
// request to the server, and close the connection only if that does not
// end the statement within a second.
func cancelRequest(c *pgconn.PgConn) ctxwatch.Handler {
	return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: time.Second}
}
