package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Schema is the SQL that creates the default table, keycard_sessions, and
// its indexes, for teams that run migrations themselves. It is idempotent.
// For another Config.Table, use [Store.Schema].
const Schema = `CREATE TABLE IF NOT EXISTS "keycard_sessions" (
	key        text    PRIMARY KEY,
	version    bigint  NOT NULL,
	user_id    text    NOT NULL,
	created    bigint  NOT NULL,
	last_seen  bigint  NOT NULL,
	auth_time  bigint  NOT NULL,
	expires    bigint  NOT NULL,
	deadline   bigint  NOT NULL,
	persistent boolean NOT NULL,
	ip         text    NOT NULL,
	user_agent text    NOT NULL,
	data       bytea   NOT NULL
);
CREATE INDEX IF NOT EXISTS "keycard_sessions_user_id_idx" ON "keycard_sessions" (user_id) WHERE user_id <> '';
CREATE INDEX IF NOT EXISTS "keycard_sessions_expiry_idx" ON "keycard_sessions" ((least(expires, deadline)));
`

// Schema returns the SQL that creates the store's table and indexes, as
// [Store.Migrate] runs it: [Schema] with the configured table's name.
func (s *Store) Schema() string {
	return s.sql.schema
}

// Migrate creates the store's table and indexes if they do not exist, by
// running [Store.Schema] in one transaction. It is idempotent and safe to
// call from every instance at startup: concurrent calls wait for each
// other on a transaction-scoped advisory lock. Teams that run migrations
// themselves apply [Store.Schema] instead and never call Migrate.
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
