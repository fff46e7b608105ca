package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

const (
	// benchKeys is how many records the Load, Save and Touch benchmarks
	// cycle through.
	benchKeys = 1024

	// benchBatch is how many records the Create and Delete benchmarks
	// write between pauses of the timer, in which they clean up or set up.
	benchBatch = 1024
)

// Bench benchmarks stores made by h, with one sub-benchmark per operation:
// Load, LoadHot (loads of one record from every goroutine at once, as the
// parallel requests of one browser tab make), Save (an update of an
// existing record), Create (a Save with version 0), Touch and Delete. Each reports allocations; records carry 200 bytes of
// data. Results are comparable between backends, so a backend's test file
// pairs Bench with Run:
//
//	func BenchmarkStore(b *testing.B) { storetest.Bench(b, harness) }
func Bench(b *testing.B, h Harness) {
	if h.New == nil {
		b.Fatal("storetest: Harness.New is nil")
	}
	b.Run("Load", func(b *testing.B) { newBench(b, h).load() })
	b.Run("LoadHot", func(b *testing.B) { newBench(b, h).loadHot() })
	b.Run("Save", func(b *testing.B) { newBench(b, h).save() })
	b.Run("Create", func(b *testing.B) { newBench(b, h).create() })
	b.Run("Touch", func(b *testing.B) { newBench(b, h).touch() })
	b.Run("Delete", func(b *testing.B) { newBench(b, h).delete() })
}

// bench is one sub-benchmark's store and the time its records are based on.
type bench struct {
	b   *testing.B
	ctx context.Context
	s   store.Store
	rec *store.Record
}

func newBench(b *testing.B, h Harness) *bench {
	clock := NewClock(time.Now().UTC().Truncate(time.Microsecond))
	s := h.New(b, clock.Now)
	if s == nil {
		b.Fatal("storetest: Harness.New returned a nil store")
	}
	rec := newRecord(clock.Now())
	rec.Data = bytes.Repeat([]byte("0123456789"), 20)
	return &bench{b: b, ctx: b.Context(), s: s, rec: rec}
}

// populate creates n records and returns their keys.
func (x *bench) populate(n int) []string {
	keys := newKeys(n)
	for _, key := range keys {
		if err := x.s.Save(x.ctx, key, x.rec); err != nil {
			x.b.Fatalf("Save(version 0): %v", err)
		}
	}
	return keys
}

func (x *bench) load() {
	keys := x.populate(benchKeys)
	x.b.ReportAllocs()
	x.b.ResetTimer()
	for i := range x.b.N {
		if _, err := x.s.Load(x.ctx, keys[i%len(keys)]); err != nil {
			x.b.Fatalf("Load: %v", err)
		}
	}
}

func (x *bench) loadHot() {
	key := x.populate(1)[0]
	x.b.ReportAllocs()
	x.b.ResetTimer()
	x.b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := x.s.Load(x.ctx, key); err != nil {
				x.b.Errorf("Load: %v", err)
				return
			}
		}
	})
}

func (x *bench) save() {
	keys := x.populate(benchKeys)
	versions := make([]uint64, len(keys))
	rec := x.rec.Clone()
	x.b.ReportAllocs()
	x.b.ResetTimer()
	for i := range x.b.N {
		k := i % len(keys)
		versions[k]++
		rec.Version = versions[k]
		if err := x.s.Save(x.ctx, keys[k], rec); err != nil {
			x.b.Fatalf("Save(version %d): %v", rec.Version, err)
		}
	}
}

func (x *bench) create() {
	x.b.ReportAllocs()
	x.b.ResetTimer()
	for done := 0; done < x.b.N; {
		x.b.StopTimer()
		keys := newKeys(min(benchBatch, x.b.N-done))
		x.b.StartTimer()
		for _, key := range keys {
			if err := x.s.Save(x.ctx, key, x.rec); err != nil {
				x.b.Fatalf("Save(version 0): %v", err)
			}
		}
		x.b.StopTimer()
		x.deleteAll(keys)
		x.b.StartTimer()
		done += len(keys)
	}
}

func (x *bench) touch() {
	keys := x.populate(benchKeys)
	lastSeen, expires := x.rec.LastSeen, x.rec.Expires
	x.b.ReportAllocs()
	x.b.ResetTimer()
	for i := range x.b.N {
		if err := x.s.Touch(x.ctx, keys[i%len(keys)], lastSeen, expires); err != nil {
			x.b.Fatalf("Touch: %v", err)
		}
	}
}

func (x *bench) delete() {
	x.b.ReportAllocs()
	x.b.ResetTimer()
	for done := 0; done < x.b.N; {
		x.b.StopTimer()
		keys := x.populate(min(benchBatch, x.b.N-done))
		x.b.StartTimer()
		x.deleteAll(keys)
		done += len(keys)
	}
}

// deleteAll deletes keys.
func (x *bench) deleteAll(keys []string) {
	for _, key := range keys {
		if err := x.s.Delete(x.ctx, key); err != nil {
			x.b.Fatalf("Delete: %v", err)
		}
	}
}
