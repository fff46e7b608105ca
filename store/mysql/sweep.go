package mysql

import (
	"context"
	"fmt"

	"github.com/keycard-go/keycard/internal/storekit"
)

// Sweep deletes expired records and reports how many it deleted. It runs
// DELETE ... WHERE live_until <= now ORDER BY live_until LIMIT
// Config.SweepBatch on the live_until index until a statement deletes
// fewer than a batch, so no statement holds locks on more than a batch of
// rows; when ctx is done it stops between batches and returns the count so
// far with ctx's error. Expired records are absent for every method
// whether or not they have been swept: call Sweep now and then, from a
// ticker in one instance, to keep the table small.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	now := storekit.Nanos(s.now())
	q := make(query, 0, 128).
		sql("DELETE FROM ").sql(s.quoted).
		sql(" WHERE live_until <= ").int(now).
		sql(" ORDER BY live_until LIMIT ").int(int64(s.sweepBatch))
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("mysql store: sweep: %w", err)
		}
		n, err := s.exec(ctx, q)
		total += int(n)
		if err != nil {
			return total, fmt.Errorf("mysql store: sweep: %w", err)
		}
		if n < int64(s.sweepBatch) {
			return total, nil
		}
	}
}
