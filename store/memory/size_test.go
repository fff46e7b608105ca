package memory_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// BenchmarkMemoryPerSession reports the heap a store holds per session, in
// B/session, for 100,000 sessions with 200 bytes of data each, a user ID,
// an IP and a typical browser user agent, every string allocated apart as
// it would be when it comes from a request. Run it with -benchtime=1x.
func BenchmarkMemoryPerSession(b *testing.B) {
	const sessions = 100_000
	keys := make([]string, sessions)
	for i := range keys {
		keys[i] = testKey(i)
	}
	for range b.N {
		perSession := measureHeap(func() any { return fillRealistic(b, keys) }) / sessions
		b.ReportMetric(perSession, "B/session")
	}
}

// fillRealistic returns a store holding a realistic session under each key.
func fillRealistic(b *testing.B, keys []string) *memory.Store {
	const agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	s := memory.New(memory.Config{})
	ctx, now := b.Context(), time.Now()
	for i, key := range keys {
		rec := &store.Record{
			UserID:    fmt.Sprintf("user-%d", i),
			Created:   now,
			LastSeen:  now,
			AuthTime:  now,
			Expires:   now.Add(30 * time.Minute),
			Deadline:  now.Add(24 * time.Hour),
			IP:        fmt.Sprintf("198.51.%d.%d", i/256%256, i%256),
			UserAgent: strings.Clone(agent),
			Data:      make([]byte, 200),
		}
		if err := s.Save(ctx, key, rec); err != nil {
			b.Fatalf("Save: %v", err)
		}
	}
	return s
}

// measureHeap returns how many heap bytes the value that build returns
// keeps alive.
func measureHeap(build func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc)
}
