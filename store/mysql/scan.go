package mysql

import (
	"context"
	"fmt"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/internal/sqlrec"
)

var _ store.Scanner = (*Store)(nil)

// Scan calls fn for every live record, streaming them from one SELECT. It
// is meant for administration tools, not request paths: it reads the whole
// table. If fn returns an error, Scan stops and returns it.
func (s *Store) Scan(ctx context.Context, fn func(store.Entry) error) error {
	q := make(query, 0, 256).
		sql("SELECT session_key, " + selectColumns + " FROM ").sql(s.quoted).
		sql(" WHERE live_until > ").int(storekit.Nanos(s.now()))
	rows, err := s.db.QueryContext(ctx, string(q))
	if err != nil {
		return fmt.Errorf("mysql store: scan: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		rec, err := sqlrec.Scan(rows.Scan, &key)
		if err != nil {
			return fmt.Errorf("mysql store: scan: %w", err)
		}
		if err := fn(store.Entry{Key: key, Record: rec}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mysql store: scan: %w", err)
	}
	return nil
}
