package load

import (
	"os"
	"runtime"
	"testing"
)

func TestProcessCPUReadsTheCPUTimeOfAProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/PID/stat is Linux's")
	}
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Work until the clock ticks (10 ms of CPU at most, a few on a busy
	// machine), bounded by a count rather than by time.
	x := uint64(1)
	for i := 0; i < 1<<34; i++ {
		x = x*6364136223846793005 + 1
		if i%(1<<20) == 0 {
			if now, err := processCPU(os.Getpid()); err != nil || now > before {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
		}
	}
	t.Fatalf("CPU time did not grow (%d)", x)
}

func TestProcessCPUFailsForAMissingProcess(t *testing.T) {
	if _, err := processCPU(-1); err == nil {
		t.Fatal("got no error for PID -1")
	}
}
