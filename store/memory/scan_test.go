package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/storetest"
)

func TestScanSeesEveryLiveRecordOnce(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := memory.New(memory.Config{Now: clock.Now})
	ctx := context.Background()
	now := clock.Now()
	for i := range 300 {
		exp := now.Add(time.Hour)
		if i%3 == 0 {
			exp = now.Add(time.Minute)
		}
		rec := &store.Record{Created: now, Expires: exp, Deadline: now.Add(2 * time.Hour)}
		if err := s.Save(ctx, string(rune('a'+i%26))+time.Duration(i).String(), rec); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Minute)
	seen := map[string]bool{}
	err := s.Scan(ctx, func(e store.Entry) error {
		if seen[e.Key] {
			t.Errorf("key %q seen twice", e.Key)
		}
		seen[e.Key] = true
		if !e.Record.Live(clock.Now()) {
			t.Errorf("expired record %q scanned", e.Key)
		}
		return s.Delete(ctx, e.Key) // fn may use the store
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 200 {
		t.Errorf("scanned %d records, want the 200 live ones", len(seen))
	}
}
