package reliability_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

// countingStore counts the calls made to the store it wraps.
type countingStore struct {
	store.Store
	loads, saves, deletes, touches atomic.Int64
}

func (c *countingStore) Load(ctx context.Context, key string) (*store.Record, error) {
	c.loads.Add(1)
	return c.Store.Load(ctx, key)
}

func (c *countingStore) Save(ctx context.Context, key string, rec *store.Record) error {
	c.saves.Add(1)
	return c.Store.Save(ctx, key, rec)
}

func (c *countingStore) Delete(ctx context.Context, key string) error {
	c.deletes.Add(1)
	return c.Store.Delete(ctx, key)
}

func (c *countingStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	c.touches.Add(1)
	return c.Store.Touch(ctx, key, lastSeen, expires)
}

// calls returns the number of calls of every method so far.
func (c *countingStore) calls() int64 {
	return c.loads.Load() + c.saves.Load() + c.deletes.Load() + c.touches.Load()
}

// slowStore delays every call to the store it wraps by delay, as a
// server that answers slowly would, and gives up when ctx ends, as every
// real store's client does.
type slowStore struct {
	store.Store
	delay atomic.Int64 // a time.Duration
}

func (s *slowStore) wait(ctx context.Context) error {
	d := time.Duration(s.delay.Load())
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("slow store: %w", ctx.Err())
	}
}

func (s *slowStore) Load(ctx context.Context, key string) (*store.Record, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.Store.Load(ctx, key)
}

func (s *slowStore) Save(ctx context.Context, key string, rec *store.Record) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.Store.Save(ctx, key, rec)
}

func (s *slowStore) Delete(ctx context.Context, key string) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.Store.Delete(ctx, key)
}

func (s *slowStore) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.Store.Touch(ctx, key, lastSeen, expires)
}

// goroutines returns the number of goroutines, leaving out those of the
// tests' own fault proxy (three per proxied connection), which come and go
// with the connections the store's pool keeps.
func goroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if len(g) > 0 && !bytes.Contains(g, []byte("reliability_test.(*proxy)")) {
			count++
		}
	}
	return count
}

// checkGoroutines waits up to 30 s for the number of goroutines (as
// goroutines counts them) to come back to at most base+tolerance, and
// fails with every goroutine's stack if it does not. It returns the number
// it settled at. Goroutines end within milliseconds; the long wait is for
// a loaded machine, and costs nothing when they do.
func checkGoroutines(tb testing.TB, base, tolerance int) int {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := goroutines()
		if n <= base+tolerance {
			return n
		}
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&buf, 1)
			tb.Errorf("goroutines: %d before, %d 30 s after (tolerance %d): a leak? stacks:\n%s", base, n, tolerance, buf.Bytes())
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// percentile returns the p-th percentile (0 to 100) of ds, by the
// nearest-rank method.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// deadline returns a context that ends after d, canceled when tb ends.
func deadline(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// figure logs a measured figure in a fixed form that docs/RELIABILITY.md
// quotes: "FIGURE <test>: <name> = <value>". With -v the figures of a run
// can be collected with grep FIGURE.
func figure(tb testing.TB, name string, format string, args ...any) {
	tb.Helper()
	tb.Logf("FIGURE %s: %s = %s", tb.Name(), name, fmt.Sprintf(format, args...))
}

// envSet reports whether the environment variable name is set to a true
// value ("1", "true", "yes").
func envSet(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "1", "true", "yes":
		return true
	}
	return false
}
