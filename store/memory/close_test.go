package memory_test

import (
	"bytes"
	"context"
	"errors"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store/memory"
)

func TestClosedStoreReportsErrClosed(t *testing.T) {
	t.Parallel()
	s := memory.New(memory.Config{})
	ctx, now := t.Context(), time.Now()
	fill(t, s, 0, 10, now.Add(time.Hour))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	calls := map[string]func() error{
		"Load":       func() error { _, err := s.Load(ctx, testKey(0)); return err },
		"Save":       func() error { return s.Save(ctx, testKey(99), liveRecord("", now.Add(time.Hour))) },
		"Delete":     func() error { return s.Delete(ctx, testKey(0)) },
		"Touch":      func() error { return s.Touch(ctx, testKey(0), now, now.Add(time.Hour)) },
		"ListUser":   func() error { _, err := s.ListUser(ctx, "A"); return err },
		"DeleteUser": func() error { _, err := s.DeleteUser(ctx, "A"); return err },
		"Sweep":      func() error { _, err := s.Sweep(ctx); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, memory.ErrClosed) {
			t.Errorf("%s after Close: got error %v, want %v", name, err, memory.ErrClosed)
		}
	}
	if got := s.Len(); got != 0 {
		t.Errorf("got Len %d after Close, want 0", got)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got error %v, want nil", err)
	}
}

func TestErrorsNameTheStoreAndTheMethod(t *testing.T) {
	t.Parallel()
	s := memory.New(memory.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Load(ctx, testKey(0))
	if got, want := err.Error(), "memory store: load: context canceled"; got != want {
		t.Errorf("got error %q, want %q", got, want)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want it to wrap %v", err, context.Canceled)
	}
}

// TestStoreStartsNoGoroutines does not run in parallel: it counts every
// goroutine of the test binary.
func TestStoreStartsNoGoroutines(t *testing.T) {
	s := memory.New(memory.Config{MaxSessions: 5})
	fill(t, s, 0, 20, time.Now().Add(time.Hour))
	s.Sweep(t.Context())
	during := storeGoroutines()
	s.Close()
	if after := storeGoroutines(); during != "" || after != "" {
		t.Errorf("goroutines running the store's code while in use:\n%s\nafter Close:\n%s", during, after)
	}
}

// storeGoroutines returns the stacks of the goroutines running code of
// package memory, or "". It looks at what each goroutine runs rather than
// counting them, so that goroutines other tests leave, still ending, do
// not count; nor do the parallel tests waiting in t.Parallel, whose
// frames are in the package's test files, not in the store's.
func storeGoroutines() string {
	var buf bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&buf, 2)
	var found []string
	for _, g := range strings.Split(buf.String(), "\n\n") {
		for _, line := range strings.Split(g, "\n") {
			file, _, ok := strings.Cut(strings.TrimSpace(line), ".go:")
			if ok && strings.Contains(file, "/store/memory/") && !strings.HasSuffix(file, "_test") {
				found = append(found, g)
				break
			}
		}
	}
	return strings.Join(found, "\n\n")
}
