package sqlite

import (
	"context"
	"fmt"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/internal/sqlrec"
)

// ListUser returns the live records of userID with their keys, in no
// particular order, in one query that uses the user_id index. The
// anonymous user "" has no listed sessions.
func (s *Store) ListUser(ctx context.Context, userID string) ([]store.Entry, error) {
	rows, err := s.query(ctx, s.sql.listUser, userID, storekit.Nanos(s.now()))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list user: %w", err)
	}
	defer rows.Close()
	var list []store.Entry
	for rows.Next() {
		var key string
		rec, err := sqlrec.Scan(rows.Scan, &key)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: list user: %w", err)
		}
		list = append(list, store.Entry{Key: key, Record: rec})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list user: %w", err)
	}
	return list, nil
}

// DeleteUser deletes every record of userID, expired or not, in one
// statement, and reports how many live ones it deleted. The anonymous user
// "" has no sessions to delete.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	if err := s.beginWrite(ctx); err != nil {
		return 0, fmt.Errorf("sqlite store: delete user: %w", err)
	}
	defer s.endWrite()
	rows, err := s.query(ctx, s.sql.deleteUser, userID, storekit.Nanos(s.now()))
	if err != nil {
		return 0, fmt.Errorf("sqlite store: delete user: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var live bool
		if err := rows.Scan(&live); err != nil {
			return 0, fmt.Errorf("sqlite store: delete user: %w", err)
		}
		if live {
			n++
		}
	}
	// The deletion commits when the statement ends, which Close makes
	// happen; its error is the statement's.
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("sqlite store: delete user: %w", err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite store: delete user: %w", err)
	}
	return n, nil
}

// CountAnonymous returns how many live records have no user, in one query
// on the user_id index.
func (s *Store) CountAnonymous(ctx context.Context) (int, error) {
	rows, err := s.query(ctx, s.sql.countAnon, storekit.Nanos(s.now()))
	if err != nil {
		return 0, fmt.Errorf("sqlite store: count anonymous: %w", err)
	}
	defer rows.Close()
	n := 0
	if rows.Next() {
		err = rows.Scan(&n)
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite store: count anonymous: %w", err)
	}
	return n, nil
}
