package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/postgres"
)

// lazyPool returns a pool that has not connected, for tests that need no
// server: pgxpool connects on first use.
func lazyPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestNewRejectsUnsafeTableNames(t *testing.T) {
	t.Parallel()
	pool := lazyPool(t)
	for _, table := range []string{
		"sessions; DROP TABLE users", `"sessions"`, "Sessions", "1sessions", "ses-sions", "ses sions",
		"a.b.c", ".sessions", "auth.", "auth..sessions", "sessions\x00", "séssions",
		strings.Repeat("s", 49), strings.Repeat("s", 64) + ".sessions",
	} {
		if _, err := postgres.New(pool, postgres.Config{Table: table}); err == nil || !strings.HasPrefix(err.Error(), "postgres store: ") {
			t.Errorf("New with Table %q: got error %v, want a postgres store error", table, err)
		}
	}
	for _, table := range []string{"", "sessions", "_s1", "auth.sessions", "select", strings.Repeat("s", 48)} {
		if _, err := postgres.New(pool, postgres.Config{Table: table}); err != nil {
			t.Errorf("New with Table %q: got error %v, want nil", table, err)
		}
	}
}

func TestNewRejectsANilPoolAndANegativeBatch(t *testing.T) {
	t.Parallel()
	if _, err := postgres.New(nil, postgres.Config{}); err == nil {
		t.Error("New(nil): got a nil error, want one")
	}
	if _, err := postgres.New(lazyPool(t), postgres.Config{SweepBatch: -1}); err == nil {
		t.Error("New with SweepBatch -1: got a nil error, want one")
	}
}

func TestSchemaNamesTheTableAndItsIndexes(t *testing.T) {
	t.Parallel()
	def, err := postgres.Schema("")
	if err != nil {
		t.Fatal(err)
	}
	if named, err := postgres.Schema(postgres.DefaultTable); named != def || err != nil {
		t.Errorf("Schema(DefaultTable): got %v and\n%s\nwant Schema(\"\"):\n%s", err, named, def)
	}
	s, err := postgres.New(lazyPool(t), postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Table(); got != postgres.DefaultTable {
		t.Errorf("got Table %q, want %q", got, postgres.DefaultTable)
	}
	want := strings.NewReplacer(`"keycard_sessions"`, `"auth"."sessions"`, `"keycard_sessions_`, `"sessions_`).Replace(def)
	if got, err := postgres.Schema("auth.sessions"); got != want || err != nil {
		t.Errorf("Schema(\"auth.sessions\"): got %v and\n%s\nwant:\n%s", err, got, want)
	}
	if _, err := postgres.Schema("Sessions"); err == nil || !strings.HasPrefix(err.Error(), "postgres store: ") {
		t.Errorf(`Schema("Sessions"): got error %v, want a postgres store error`, err)
	}
}

func TestMigrateIsIdempotentAndSafeToRunConcurrently(t *testing.T) {
	t.Parallel()
	pool := sharedPool(t)
	s := newStore(t, pool, postgres.Config{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			other, err := postgres.New(newPool(t, nil), postgres.Config{Table: s.Table()})
			if err == nil {
				err = other.Migrate(t.Context())
			}
			if err != nil {
				t.Errorf("concurrent Migrate: got error %v, want nil", err)
			}
		})
	}
	wg.Wait()
	if err := s.Migrate(t.Context()); err != nil {
		t.Errorf("Migrate again: got error %v, want nil", err)
	}
	var indexes int
	err := pool.QueryRow(t.Context(), "SELECT count(*) FROM pg_indexes WHERE tablename = $1", s.Table()).Scan(&indexes)
	if err != nil || indexes != 3 {
		t.Errorf("got %d indexes, %v, want 3 (key, user_id, expiry)", indexes, err)
	}
}

func TestMigrateOnAFreshTableRunsConcurrently(t *testing.T) {
	t.Parallel()
	sharedPool(t) // skips when the server is unreachable
	table := uniqueName("keycard_test")
	t.Cleanup(func() { dropTable(t, table) })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := postgres.New(newPool(t, nil), postgres.Config{Table: table})
			if err == nil {
				err = s.Migrate(t.Context())
			}
			if err != nil {
				t.Errorf("concurrent first Migrate: got error %v, want nil", err)
			}
		})
	}
	wg.Wait()
}

func TestTheDocumentedSchemaAppliedByHandWorks(t *testing.T) {
	t.Parallel()
	pool := sharedPool(t)
	table := uniqueName("keycard_test")
	t.Cleanup(func() { dropTable(t, table) })
	s, err := postgres.New(pool, postgres.Config{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	// As a team's migration tool would: the text alone, no Migrate.
	ddl, err := postgres.Schema(table)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), ddl); err != nil {
		t.Fatalf("applying Schema: %v", err)
	}
	checkSaveLoad(t, s)
}

func TestASchemaQualifiedTableWorks(t *testing.T) {
	t.Parallel()
	pool := sharedPool(t)
	schema := uniqueName("keycard_test")
	if _, err := pool.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	s := newStore(t, pool, postgres.Config{Table: schema + ".sessions"})
	checkSaveLoad(t, s)
}

// checkSaveLoad saves a record in s and loads it back.
func checkSaveLoad(t *testing.T, s *postgres.Store) {
	t.Helper()
	now := time.Now()
	rec := &store.Record{UserID: "alice", Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour), Data: []byte("x")}
	if err := s.Save(t.Context(), testKey(1), rec); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := s.Load(t.Context(), testKey(1))
	if err != nil || got.UserID != "alice" || got.Version != 1 {
		t.Fatalf("Load: got %+v, %v, want alice's record at version 1", got, err)
	}
}

func TestTheIndexesServeTheSweeperAndUserLists(t *testing.T) {
	t.Parallel()
	pool := sharedPool(t)
	s := newStore(t, pool, postgres.Config{})
	for query, index := range map[string]string{
		// The predicates of Sweep and ListUser.
		"SELECT key FROM " + s.Table() + " WHERE least(expires, deadline) <= 5 LIMIT 1000 FOR UPDATE SKIP LOCKED":      s.Table() + "_expiry_idx",
		"SELECT key FROM " + s.Table() + " WHERE user_id = 'alice' AND user_id <> '' AND expires > 5 AND deadline > 5": s.Table() + "_user_id_idx",
	} {
		plan := explain(t, pool, query)
		if !strings.Contains(plan, index) {
			t.Errorf("plan of %s:\n%s\nwant it to use %s", query, plan, index)
		}
	}
}

// explain returns the plan of query with sequential scans discouraged, as
// on a table too large to scan.
func explain(t *testing.T, pool *pgxpool.Pool, query string) string {
	t.Helper()
	var plan []string
	err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		rows, err := tx.Query(t.Context(), "EXPLAIN "+query)
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

func TestAUserIDPostgreSQLCannotHoldIsAWrappedSaveError(t *testing.T) {
	t.Parallel()
	s := newStore(t, sharedPool(t), postgres.Config{})
	now := time.Now()
	for _, user := range []string{"nul\x00byte", "bad\xffutf8"} {
		rec := &store.Record{UserID: user, Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
		err := s.Save(t.Context(), testKey(1), rec)
		if err == nil || !strings.HasPrefix(err.Error(), "postgres store: save: ") || errors.Is(err, store.ErrConflict) {
			t.Errorf("Save with UserID %q: got error %v, want a wrapped server error", user, err)
		}
	}
	if _, err := s.Load(t.Context(), testKey(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Load: got error %v, want %v", err, store.ErrNotFound)
	}
}
