package sqlite

import (
	"context"
	"fmt"
	"strings"
)

// Schema is the SQL that creates the default table, keycard_sessions, and
// its indexes, for teams that run migrations themselves. It is idempotent.
// For another Config.Table, use [Store.Schema].
const Schema = `CREATE TABLE IF NOT EXISTS "keycard_sessions" (
	key        TEXT    NOT NULL PRIMARY KEY,
	version    INTEGER NOT NULL,
	user_id    TEXT    NOT NULL,
	created    INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	auth_time  INTEGER NOT NULL,
	expires    INTEGER NOT NULL,
	deadline   INTEGER NOT NULL,
	persistent INTEGER NOT NULL,
	ip         TEXT    NOT NULL,
	user_agent TEXT    NOT NULL,
	data       BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS "keycard_sessions_user_id_idx" ON "keycard_sessions" (user_id) WHERE user_id <> '';
CREATE INDEX IF NOT EXISTS "keycard_sessions_expiry_idx" ON "keycard_sessions" (min(expires, deadline));
`

// Schema returns the SQL that creates the store's table and indexes, as
// [Store.Migrate] runs it: [Schema] with the configured table's name.
func (s *Store) Schema() string {
	return s.sql.schema
}

// Migrate creates the store's table and indexes if they do not exist, by
// running the statements of [Store.Schema] one after the other. It is
// idempotent and safe to call from every process at startup: each
// statement takes the write lock, and one that finds its table or index
// already made does nothing. Open calls it, since an embedded database has
// no one else to create its schema; with New, call it yourself or apply
// [Store.Schema] with your own migrations.
func (s *Store) Migrate(ctx context.Context) error {
	if s.sql.isClosed() {
		return fmt.Errorf("sqlite store: migrate: %w", ErrClosed)
	}
	if err := s.beginWrite(ctx); err != nil {
		return fmt.Errorf("sqlite store: migrate: %w", err)
	}
	defer s.endWrite()
	for stmt := range strings.SplitSeq(s.sql.schema, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlite store: migrate %s: %w", s.table, err)
		}
	}
	return nil
}
