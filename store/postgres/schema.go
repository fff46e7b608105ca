package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Schema returns the SQL that creates table and its indexes, for teams
// that run migrations themselves: the SQL that [Store.Migrate] runs for a
// Store whose Config.Table is table. An empty table means [DefaultTable],
// in the first schema of the search_path. The SQL is idempotent. Schema
// reports an error if table is not a valid Config.Table.
func Schema(table string) (string, error) {
	cfg, err := Config{Table: table}.withDefaults()
	if err != nil {
		return "", err
	}
	return names(cfg.Table).Replace(schemaTemplate), nil
}

// Migrate creates the store's table and indexes if they do not exist, by
// running the SQL of [Schema] for its table in one transaction. It is
// idempotent and safe to call from every instance at startup: concurrent
// calls wait for each other on a transaction-scoped advisory lock. Teams
// that run migrations themselves apply that SQL instead and never call
// Migrate.
//
// On a large existing table, a missing index is built with a plain CREATE
// INDEX, which blocks writes while it runs; create it CONCURRENTLY by hand
// instead.
func (s *Store) Migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "keycard migrate "+s.table); err != nil {
			return err
		}
		// Without arguments, pgx sends the text as one simple query,
		// which may hold several statements.
		_, err := tx.Exec(ctx, s.sql.schema)
		return err
	})
	if err != nil {
		return wrap(ctx, "migrate", err)
	}
	return nil
}
