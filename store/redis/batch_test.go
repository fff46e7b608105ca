package redis_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/internal/redistest"
	"github.com/keycard-go/keycard/store/storetest"
)

// renewal returns the batch that renews the session under oldKey, whose
// stored record is rec: rec under newKey as a new record, and under
// oldKey a short-lived marker without a user at rec's version.
func (f *fixture) renewal(oldKey, newKey string, rec *store.Record) []store.Entry {
	renewed := rec.Clone()
	renewed.Version = 0
	now := f.clock.Now()
	marker := &store.Record{Version: rec.Version, Created: now, LastSeen: now, Expires: now.Add(time.Minute), Deadline: now.Add(time.Minute), Data: []byte("marker")}
	return []store.Entry{{Key: newKey, Record: renewed}, {Key: oldKey, Record: marker}}
}

// TestSaveBatchIsOneRoundTrip counts, on a private server's MONITOR
// stream, the commands of a renewal saved with SaveBatch: one EVALSHA for
// both records and both index changes.
func TestSaveBatchIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	clock := storetest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	st := redis.New(redistest.Client(t, []string{srv.Addr}), redis.Config{Now: clock.Now})
	f := &fixture{t: t, ctx: t.Context(), s: st, prefix: "keycard:", clock: clock}

	// A first batch loads the script into the server, so that what
	// follows runs EVALSHA only.
	warm, oldKey, newKey := newKey(), newKey(), newKey()
	if err := st.SaveBatch(f.ctx, []store.Entry{{Key: warm, Record: f.record("")}}); err != nil {
		t.Fatal(err)
	}
	rec := f.record("alice")
	f.save(oldKey, rec)

	mon := redistest.StartMonitor(t, srv.Addr)
	before := changes(t, srv.Addr)
	mon.Next(t)
	if err := st.SaveBatch(f.ctx, f.renewal(oldKey, newKey, rec)); err != nil {
		t.Fatalf("SaveBatch: %v", err)
	}
	sent, scripted := mon.Next(t)
	if got := summary(sent); got != "evalsha×1" {
		t.Errorf("SaveBatch of a renewal: got commands %q, want %q", got, "evalsha×1")
	}
	t.Logf("SaveBatch of a renewal: %s, %d run by the script, %d changes", summary(sent), scripted, changes(t, srv.Addr)-before)

	index, err := redistest.Command(srv.Addr, "ZRANGE", "keycard:u:{alice}", "0", "-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := memberOf(newKey, 1); index != want {
		t.Errorf("after the renewal: index of alice is %q, want %q", index, want)
	}
}

func TestSaveBatchRenewalMovesTheIndexEntry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	oldKey, newKey, other := newKey(), newKey(), newKey()
	rec := f.record("alice")
	f.save(oldKey, rec)
	f.save(other, f.record("alice"))

	batch := f.renewal(oldKey, newKey, rec)
	if err := f.s.SaveBatch(f.ctx, batch); err != nil {
		t.Fatalf("SaveBatch: %v", err)
	}
	f.wantListed("alice", newKey, other)
	f.wantIndex("after the renewal", "alice", entry(newKey, 1, rec), entry(other, 1, rec))
	got, err := f.s.Load(f.ctx, newKey)
	if err != nil || got.Version != 1 || got.UserID != "alice" || string(got.Data) != string(rec.Data) {
		t.Errorf("Load(new key): got %+v, %v, want alice's record at version 1", got, err)
	}
	got, err = f.s.Load(f.ctx, oldKey)
	if err != nil || got.Version != rec.Version+1 || got.UserID != "" || string(got.Data) != "marker" {
		t.Errorf("Load(old key): got %+v, %v, want the marker at version %d", got, err, rec.Version+1)
	}
	if batch[0].Record.Version != 0 || batch[1].Record.Version != rec.Version {
		t.Errorf("SaveBatch changed the versions of the records passed in")
	}
}

func TestSaveBatchMovesRecordsBetweenUsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := newKey(), newKey()
	recA, recB := f.record("alice"), f.record("")
	f.save(a, recA)
	f.save(b, recB)

	toBob, toAlice := recA.Clone(), recB.Clone()
	toBob.UserID, toAlice.UserID = "bob", "alice"
	toAlice.Deadline = toAlice.Deadline.Add(time.Hour)
	if err := f.s.SaveBatch(f.ctx, []store.Entry{{Key: a, Record: toBob}, {Key: b, Record: toAlice}}); err != nil {
		t.Fatalf("SaveBatch: %v", err)
	}
	f.wantListed("alice", b)
	f.wantListed("bob", a)
	f.wantIndex("after the batch", "alice", entry(b, 2, toAlice))
	f.wantIndex("after the batch", "bob", entry(a, 2, toBob))
}

func TestSaveBatchConflictWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	oldKey, newKey := newKey(), newKey()
	rec := f.record("alice")
	f.save(oldKey, rec)

	stale := f.renewal(oldKey, newKey, rec)
	stale[1].Record.Version = rec.Version + 5
	taken := f.renewal(oldKey, newKey, rec)
	taken[0].Key, taken[1].Key = oldKey, newKey // a create over the live record first
	taken[1].Record.Version = 0
	for name, batch := range map[string][]store.Entry{"a stale version last": stale, "an existing record first": taken} {
		if err := f.s.SaveBatch(f.ctx, batch); err != store.ErrConflict {
			t.Errorf("SaveBatch with %s: got %v, want ErrConflict", name, err)
		}
		if _, err := f.s.Load(f.ctx, newKey); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after SaveBatch with %s: Load(new key): got %v, want ErrNotFound", name, err)
		}
		got, err := f.s.Load(f.ctx, oldKey)
		if err != nil || got.Version != rec.Version || got.UserID != "alice" {
			t.Errorf("after SaveBatch with %s: Load(old key): got %+v, %v, want alice's record at version %d", name, got, err, rec.Version)
		}
		f.wantIndex("after SaveBatch with "+name, "alice", entry(oldKey, 1, rec))
	}
}

func TestSaveBatchRefusesARepeatedKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := newKey()
	err := f.s.SaveBatch(f.ctx, []store.Entry{{Key: key, Record: f.record("alice")}, {Key: key, Record: f.record("bob")}})
	if err == nil || errors.Is(err, store.ErrConflict) || !strings.HasPrefix(err.Error(), "redis store: save batch: ") {
		t.Errorf("SaveBatch naming a key twice: got %v, want a redis store error", err)
	}
	if _, err := f.s.Load(f.ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the refused batch: Load: got %v, want ErrNotFound", err)
	}
	if err := f.s.SaveBatch(f.ctx, nil); err != nil {
		t.Errorf("SaveBatch of no entries: got %v, want nil", err)
	}
}
