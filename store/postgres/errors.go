package postgres

import (
	"context"
	"errors"
	"fmt"
)

// wrap names the store and the operation op in err. When ctx has ended,
// the error also wraps ctx.Err(), so errors.Is(err, context.Canceled) or
// context.DeadlineExceeded holds even when the server, not pgx, reported
// the end: with pgconn.CancelRequestContextWatcherHandler, a cancelled
// statement fails with PostgreSQL's query_canceled error.
func wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("postgres store: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("postgres store: %s: %w", op, err)
}
