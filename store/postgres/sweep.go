package postgres

import (
	"context"

	"github.com/keycard-go/keycard/internal/storekit"
)

// Sweep deletes every expired record and reports how many it deleted.
// PostgreSQL keeps expired rows until they are deleted, and they count as
// absent meanwhile, so Sweep only reclaims space: run it every few minutes
// from one instance or several (concurrent sweeps skip each other's rows).
//
// Each statement deletes at most [Config].SweepBatch rows, found through
// the expiry index; Sweep repeats it until a batch comes back short, and
// stops early, with an error and the count so far, if ctx is done.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	now := storekit.Nanos(s.now())
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, wrap(ctx, "sweep", err)
		}
		tag, err := s.exec(ctx, s.sql.sweep, now, s.batch)
		if err != nil {
			return total, wrap(ctx, "sweep", err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n < s.batch {
			return total, nil
		}
	}
}
