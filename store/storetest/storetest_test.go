package storetest_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/storetest"
)

// faultEnv names the fault TestReferenceStore gives its store; the fault
// tests set it in the subprocesses they start.
const faultEnv = "STORETEST_REF_FAULT"

func refHarness(fault string) storetest.Harness {
	return storetest.Harness{
		New: func(tb testing.TB, now func() time.Time) store.Store {
			return newRefStore(now, fault)
		},
	}
}

func TestReferenceStore(t *testing.T) {
	storetest.Run(t, refHarness(os.Getenv(faultEnv)))
}

func BenchmarkReferenceStore(b *testing.B) {
	storetest.Bench(b, refHarness(""))
}

func TestSuiteCatchesFaults(t *testing.T) {
	if os.Getenv(faultEnv) != "" {
		t.Skip("running as the subprocess of a fault test")
	}
	if testing.Short() {
		t.Skip("runs the whole suite once per fault, in a subprocess")
	}
	for fault, catchers := range faults {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			out, err := runWithFault(t, fault)
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("running the suite with fault %q: got error %v, want a failing exit status\n%s", fault, err, out)
			}
			for _, name := range catchers {
				if bytes.Contains(out, []byte("--- FAIL: TestReferenceStore/"+strings.ReplaceAll(name, " ", "_")+" ")) {
					return
				}
			}
			t.Errorf("suite with fault %q: got failures\n%s\nwant a failure of one of %q", fault, failures(out), catchers)
		})
	}
}

// runWithFault runs TestReferenceStore in a subprocess whose store has
// fault, and returns its output.
func runWithFault(t *testing.T, fault string) ([]byte, error) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestReferenceStore$", "-test.count=1")
	cmd.Env = append(os.Environ(), faultEnv+"="+fault)
	return cmd.CombinedOutput()
}

// failures returns the "--- FAIL" lines of go test output.
func failures(out []byte) string {
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "--- FAIL") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func TestClockStandsStillUntilAdvanced(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := storetest.NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("got %v, want %v", got, start)
	}
	c.Advance(90 * time.Second)
	c.Advance(0)
	if got, want := c.Now(), start.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("after Advance: got %v, want %v", got, want)
	}
}

func TestClockRefusesToGoBack(t *testing.T) {
	t.Parallel()
	c := storetest.NewClock(time.Now())
	defer func() {
		if recover() == nil {
			t.Error("Advance(-1ns): got no panic, want one")
		}
	}()
	c.Advance(-time.Nanosecond)
}

func TestClockIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := storetest.NewClock(start)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			c.Advance(time.Millisecond)
		}
	}()
	prev := start
	for range 1000 {
		now := c.Now()
		if now.Before(prev) {
			t.Fatalf("got %v after %v, want a clock that never goes back", now, prev)
		}
		prev = now
	}
	<-done
	if got, want := c.Now(), start.Add(time.Second); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
