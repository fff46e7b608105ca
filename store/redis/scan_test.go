package redis_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/internal/redistest"
	"github.com/keycard-go/keycard/store/storetest"
)

func TestScanOfAPrivateServerVisitsEachLiveRecordOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	testScanInParts(t, redistest.Client(t, []string{srv.Addr}))
}

// testScanInParts saves 240 records, a quarter of which expire, and two
// under keys that are not hex digests, on a server or cluster that holds
// nothing else, then scans with a bound so small that Scan cuts the
// keyspace into 18 parts, and once with the default bound (one part).
// Each live record must be visited once, whole.
func testScanInParts(t *testing.T, client rueidis.Client) {
	t.Helper()
	clock := storetest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	cfg := redis.Config{Prefix: "scan:", Now: clock.Now}
	s := redis.New(client, cfg)
	now := clock.Now()
	want := map[string]string{}
	keys := []string{"not-a-hash", "~odd*key?"}
	for range 240 {
		keys = append(keys, newKey())
	}
	for i, key := range keys {
		rec := &store.Record{UserID: fmt.Sprintf("user-%d", i%10), Created: now, LastSeen: now,
			Expires: now.Add(time.Hour), Deadline: now.Add(8 * time.Hour), Data: []byte(key)}
		if i%4 == 3 {
			rec.Expires = now.Add(time.Minute)
		} else {
			want[key] = rec.UserID
		}
		if err := s.Save(t.Context(), key, rec); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Minute)
	for name, s := range map[string]*redis.Store{
		"in 18 parts": redis.NewWithScanBound(client, cfg, 20),
		"in one part": s,
	} {
		seen := map[string]bool{}
		err := s.Scan(t.Context(), func(e store.Entry) error {
			switch {
			case seen[e.Key]:
				t.Errorf("%s: visited %q twice", name, e.Key)
			case want[e.Key] == "":
				t.Errorf("%s: visited %q, an expired or unknown record", name, e.Key)
			case e.Record.UserID != want[e.Key] || string(e.Record.Data) != e.Key || e.Record.Version != 1:
				t.Errorf("%s: %q came back as user %q, data %q, version %d", name, e.Key, e.Record.UserID, e.Record.Data, e.Record.Version)
			}
			seen[e.Key] = true
			return nil
		})
		if err != nil {
			t.Fatalf("%s: Scan: %v", name, err)
		}
		if len(seen) != len(want) {
			t.Errorf("%s: visited %d records, want the %d live ones", name, len(seen), len(want))
		}
	}
}
