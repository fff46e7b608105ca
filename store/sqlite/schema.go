package sqlite

import (
	"context"
	"fmt"
	"strings"
)

// Schema returns the SQL that creates table and its indexes, for teams
// that run migrations themselves: the statements that [Store.Migrate] runs
// for a Store whose Config.Table is table. An empty table means
// [DefaultTable]. The SQL is idempotent. Schema reports an error if table
// is not a valid Config.Table.
func Schema(table string) (string, error) {
	cfg, err := Config{Table: table}.withDefaults()
	if err != nil {
		return "", err
	}
	return names(cfg.Table).Replace(schemaTemplate), nil
}

// Migrate creates the store's table and indexes if they do not exist, by
// running the statements of [Schema] for its table one after the other.
// It is idempotent and safe to call from every process at startup: each
// statement takes the write lock, and one that finds its table or index
// already made does nothing. Open calls it, since an embedded database has
// no one else to create its schema; with New, call it yourself or apply
// [Schema] with your own migrations.
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
