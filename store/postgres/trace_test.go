package postgres_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// counter counts what a pool sends the server: statements (through pgx's
// tracer hooks) and network writes. pgx writes each round trip's messages
// in one write, so writes counts round trips, including any that the
// tracer does not see, such as the pool's liveness pings.
type counter struct {
	mu       sync.Mutex
	queries  []string
	prepares int
	writes   int
}

// countedPool returns a pool of its own whose traffic c counts.
func countedPool(tb testing.TB, c *counter, configure func(*pgxpool.Config)) *pgxpool.Pool {
	return newPool(tb, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.Tracer = c
		dial := cfg.ConnConfig.DialFunc
		cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: conn, c: c}, nil
		}
		if configure != nil {
			configure(cfg)
		}
	})
}

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, data.SQL)
	return ctx
}

func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *counter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prepares++
	return ctx
}

func (c *counter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// reset forgets everything counted so far.
func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries, c.prepares, c.writes = nil, 0, 0
}

// counts returns the statements run since the last reset, split into
// reads (SELECT) and writes (anything else), and the round trips.
func (c *counter) counts() (reads, writes, prepares, roundTrips int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range c.queries {
		if strings.HasPrefix(q, "SELECT") {
			reads++
		} else {
			writes++
		}
	}
	return reads, writes, c.prepares, c.writes
}

// matching returns how many statements since the last reset contain s.
func (c *counter) matching(s string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, q := range c.queries {
		if strings.Contains(q, s) {
			n++
		}
	}
	return n
}

// countingConn counts the writes to a connection.
type countingConn struct {
	net.Conn
	c *counter
}

func (w *countingConn) Write(b []byte) (int, error) {
	w.c.mu.Lock()
	w.c.writes++
	w.c.mu.Unlock()
	return w.Conn.Write(b)
}
