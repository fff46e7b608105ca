package memory_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// LoadRecord makes one allocation, for Data and UserID, IP and UserAgent
// together, as when the store shared its strings with the caller. It does not run in parallel: AllocsPerRun counts
// the allocations of the whole test binary.
func TestLoadRecordAllocatesOnce(t *testing.T) {
	ctx := t.Context()
	s := memory.New(memory.Config{})
	now := time.Now()
	rec := liveRecord("user-1", now.Add(time.Hour))
	rec.IP, rec.UserAgent, rec.Data = "192.0.2.1", "agent/1.0", []byte("data")
	if err := s.Save(ctx, "k", rec); err != nil {
		t.Fatal(err)
	}
	var got store.Record
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.LoadRecord(ctx, "k", &got); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("LoadRecord: got %v allocations, want 1", allocs)
	}
	if got.UserID != rec.UserID || got.IP != rec.IP || got.UserAgent != rec.UserAgent || string(got.Data) != "data" ||
		!got.Expires.Equal(rec.Expires) || got.Expires.Location() != time.UTC {
		t.Errorf("LoadRecord: got %+v, want %+v in UTC", got, rec)
	}
}

// garbage is a short-lived value of the kind a request makes.
type garbage struct {
	next *garbage
	_    [120]byte // makes the value 128 bytes
}

var sink *garbage

// BenchmarkRequestWithStoredSessions measures what a request that makes
// 4 KB of garbage and loads its session costs, with one stored session
// and with 150,000: the difference is the collector's work on the stored
// sessions, which the store keeps out of its way.
func BenchmarkRequestWithStoredSessions(b *testing.B) {
	for _, n := range []int{1, 150_000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			keys := make([]string, n)
			for i := range keys {
				keys[i] = testKey(i)
			}
			s := fillRealistic(b, keys)
			// Keep a sample of the keys to load, not all of them: 150,000
			// strings would be the collector's work, not the store's.
			keys = slices.Clone(keys[:min(n, 1024)])
			ctx := b.Context()
			var rec store.Record
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				var g *garbage
				for range 32 { // 32 × 128 bytes
					g = &garbage{next: g}
				}
				sink = g
				if err := s.LoadRecord(ctx, keys[i%len(keys)], &rec); err != nil {
					b.Fatal(err)
				}
				i += 7
			}
			runtime.KeepAlive(s)
		})
	}
}

// BenchmarkLoadRecord measures LoadRecord alone, of a session with 200
// bytes of data, a user, an IP and a browser's user agent.
func BenchmarkLoadRecord(b *testing.B) {
	keys := []string{testKey(0)}
	s := fillRealistic(b, keys)
	ctx := b.Context()
	var rec store.Record
	b.ReportAllocs()
	for b.Loop() {
		if err := s.LoadRecord(ctx, keys[0], &rec); err != nil {
			b.Fatal(err)
		}
	}
}

// The strings of a loaded record share an allocation with its Data: no
// write through Data, nor an append to it, nor a later save, changes them.
func TestLoadedStringsOutliveChangesToData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := memory.New(memory.Config{})
	now := time.Now()
	rec := liveRecord("user-1", now.Add(time.Hour))
	rec.IP, rec.UserAgent, rec.Data = "192.0.2.1", "agent/1.0", []byte("data")
	if err := s.Save(ctx, "k", rec); err != nil {
		t.Fatal(err)
	}
	var got store.Record
	if err := s.LoadRecord(ctx, "k", &got); err != nil {
		t.Fatal(err)
	}
	if cap(got.Data) != len(got.Data) {
		t.Errorf("got Data with capacity %d past its %d bytes, want none", cap(got.Data), len(got.Data))
	}
	for i := range got.Data {
		got.Data[i] = 'X'
	}
	longer := append(got.Data, "more bytes than the capacity"...)
	longer[0] = 'Y'
	next := rec.Clone()
	next.Version, next.UserID, next.IP, next.UserAgent = 1, "user-2", "198.51.100.2", "other/2.0"
	if err := s.Save(ctx, "k", next); err != nil {
		t.Fatal(err)
	}
	if got.UserID != "user-1" || got.IP != "192.0.2.1" || got.UserAgent != "agent/1.0" {
		t.Errorf("after writes to Data and a save: got %q, %q, %q, want the loaded strings", got.UserID, got.IP, got.UserAgent)
	}
}
