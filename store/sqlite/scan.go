package sqlite

import (
	"context"
	"fmt"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/internal/sqlrec"
)

var _ store.Scanner = (*Store)(nil)

// scanPage is how many records Scan reads per query.
const scanPage = 500

// Scan calls fn for every live record, in key order, reading pages of
// records by primary key so that no read transaction stays open while fn
// runs (fn may write to the store). It is meant for administration tools.
// If fn returns an error, Scan stops and returns it.
func (s *Store) Scan(ctx context.Context, fn func(store.Entry) error) error {
	after := ""
	for {
		page, err := s.scanPage(ctx, after)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// scanPage reads up to scanPage live records with keys after after.
func (s *Store) scanPage(ctx context.Context, after string) ([]store.Entry, error) {
	rows, err := s.query(ctx, s.sql.scan, after, storekit.Nanos(s.now()), scanPage)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: scan: %w", err)
	}
	defer rows.Close()
	var page []store.Entry
	for rows.Next() {
		var key string
		rec, err := sqlrec.Scan(rows.Scan, &key)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: scan: %w", err)
		}
		page = append(page, store.Entry{Key: key, Record: rec})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: scan: %w", err)
	}
	return page, nil
}
