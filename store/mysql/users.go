package mysql

import (
	"context"
	"fmt"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/internal/sqlrec"
)

// ListUser returns the live records of userID with their keys, in no
// particular order: one SELECT on the user_id index. The anonymous user ""
// has no listed sessions, and asking for it costs no round trip.
func (s *Store) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	if userID == "" {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("mysql store: list user: %w", err)
		}
		return nil, nil
	}
	q := make(query, 0, 256).
		sql("SELECT session_key, " + selectColumns + " FROM ").sql(s.quoted).
		sql(" WHERE user_id = ").str(userID).
		sql(" AND live_until > ").int(storekit.Nanos(s.now()))
	rows, err := s.db.QueryContext(ctx, string(q))
	if err != nil {
		return nil, fmt.Errorf("mysql store: list user: %w", err)
	}
	defer rows.Close()
	var list []store.Entry
	for rows.Next() {
		var key string
		rec, err := sqlrec.Scan(rows.Scan, &key)
		if err != nil {
			return nil, fmt.Errorf("mysql store: list user: %w", err)
		}
		list = append(list, store.Entry{Key: key, Record: rec})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql store: list user: %w", err)
	}
	return list, nil
}

// DeleteUser deletes every record of userID and reports how many live ones
// it deleted, in two DELETE statements on the user_id index: the live
// records, counted, then the expired ones, which were already absent. The
// anonymous user "" has no sessions to delete, and asking for it costs no
// round trip.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("mysql store: delete user: %w", err)
		}
		return 0, nil
	}
	now := storekit.Nanos(s.now())
	q := make(query, 0, 256).
		sql("DELETE FROM ").sql(s.quoted).sql(" WHERE user_id = ").str(userID)
	n, err := s.exec(ctx, q.sql(" AND live_until > ").int(now))
	if err != nil {
		return 0, fmt.Errorf("mysql store: delete user: %w", err)
	}
	q = make(query, 0, 256).
		sql("DELETE FROM ").sql(s.quoted).sql(" WHERE user_id = ").str(userID)
	if _, err := s.exec(ctx, q); err != nil {
		return int(n), fmt.Errorf("mysql store: delete user: %w", err)
	}
	return int(n), nil
}

// CountAnonymous returns how many live records have no user, in one query
// on the user_id index.
func (s *Store) CountAnonymous(ctx context.Context) (int, error) {
	q := make(query, 0, 128).
		sql("SELECT COUNT(*) FROM ").sql(s.quoted).
		sql(" WHERE user_id = '' AND live_until > ").int(storekit.Nanos(s.now()))
	var n int64
	if err := s.db.QueryRowContext(ctx, string(q)).Scan(&n); err != nil {
		return 0, fmt.Errorf("mysql store: count anonymous: %w", err)
	}
	return int(n), nil
}
