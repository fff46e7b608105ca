package postgres

import (
	"context"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/internal/sqlrec"
)

var _ store.Scanner = (*Store)(nil)

// Scan calls fn for every live record, streaming them from one SELECT. It
// is meant for administration tools, not request paths: it reads the whole
// table. If fn returns an error, Scan stops and returns it.
func (s *Store) Scan(ctx context.Context, fn func(store.Entry) error) error {
	rows, err := s.pool.Query(ctx, s.sql.scan, storekit.Nanos(s.now()))
	if err != nil {
		return wrap(ctx, "scan", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		rec, err := sqlrec.Scan(rows.Scan, &key)
		if err != nil {
			return wrap(ctx, "scan", err)
		}
		if err := fn(store.Entry{Key: key, Record: rec}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap(ctx, "scan", err)
	}
	return nil
}
