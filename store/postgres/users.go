package postgres

import (
	"context"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/internal/sqlrec"
)

// ListUser returns the live records of userID with their keys, in no
// particular order, in one query that uses the user_id index. The
// anonymous user "" has no listed sessions.
func (s *Store) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	rows, err := s.pool.Query(ctx, s.sql.listUser, userID, storekit.Nanos(s.now()))
	if err != nil {
		return nil, wrap(ctx, "list user", err)
	}
	defer rows.Close()
	var list []store.Entry
	for rows.Next() {
		var key string
		rec, err := sqlrec.Scan(rows.Scan, &key)
		if err != nil {
			return nil, wrap(ctx, "list user", err)
		}
		list = append(list, store.Entry{Key: key, Record: rec})
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "list user", err)
	}
	return list, nil
}

// DeleteUser deletes every record of userID, expired or not, in one
// statement, and reports how many live ones it deleted. The anonymous user
// "" has no sessions to delete. Like the other writes, it is run once
// more after a serialization failure (see [Store.Save]).
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.write(ctx, func(q querier) error {
		return q.QueryRow(ctx, s.sql.deleteUser, userID, storekit.Nanos(s.now())).Scan(&n)
	})
	if err != nil {
		return 0, wrap(ctx, "delete user", err)
	}
	return n, nil
}

// CountAnonymous returns how many live records have no user, in one query
// on the user_id index.
func (s *Store) CountAnonymous(ctx context.Context) (int, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, s.sql.countAnon, storekit.Nanos(s.now())).Scan(&n); err != nil {
		return 0, wrap(ctx, "count anonymous", err)
	}
	return int(n), nil
}
