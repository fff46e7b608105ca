package sqlite

import (
	"context"
	"fmt"

	"github.com/keycard-go/keycard/internal/storekit"
)

// Sweep deletes every expired record and reports how many it deleted.
// SQLite keeps expired rows until they are deleted, and they count as
// absent meanwhile, so Sweep only reclaims space: run it every few minutes
// from one process (concurrent sweeps are safe, but only take turns).
//
// Each statement deletes at most [Config].SweepBatch rows, found through
// the expiry index, and commits on its own, so other writers wait for one
// batch at most; Sweep repeats it until a batch comes back short, and
// stops early, with an error and the count so far, if ctx is done. Deleted
// rows' pages are reused for new sessions; the file does not shrink.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	now := storekit.Nanos(s.now())
	total := 0
	for {
		n, err := s.sweepBatch(ctx, now)
		total += n
		if err != nil {
			return total, fmt.Errorf("sqlite store: sweep: %w", err)
		}
		if n < s.batch {
			return total, nil
		}
	}
}

// sweepBatch runs one statement of Sweep.
func (s *Store) sweepBatch(ctx context.Context, now int64) (int, error) {
	if err := s.beginWrite(ctx); err != nil {
		return 0, err
	}
	defer s.endWrite()
	n, err := s.exec(ctx, s.sql.sweep, now, s.batch)
	return int(n), err
}
