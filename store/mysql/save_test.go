package mysql_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/mysql"
	"github.com/keycard-go/keycard/store/storetest"
)

// dsnVariants are the values of the DSN options that change the
// rows-affected counts Save and Touch read, and whether parameters are
// interpolated (which the store, sending none, should not care about).
var dsnVariants = []struct {
	name string
	edit func(*driver.Config)
}{
	{"default DSN", nil},
	{"clientFoundRows=true", func(c *driver.Config) { c.ClientFoundRows = true }},
	{"interpolateParams=true", func(c *driver.Config) { c.InterpolateParams = true }},
}

// forEachDSN runs test once for each of dsnVariants, with a pool of its
// own, in parallel subtests.
func forEachDSN(t *testing.T, test func(t *testing.T, db *sql.DB)) {
	for _, v := range dsnVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			test(t, openDB(t, v.edit))
		})
	}
}

func TestCreateKeepsALiveRowAndReplacesAnExpiredOne(t *testing.T) {
	t.Parallel()
	forEachDSN(t, func(t *testing.T, db *sql.DB) {
		clock := storetest.NewClock(time.Now())
		s := newStore(t, db, mysql.Config{Now: clock.Now})
		ctx, now, key := t.Context(), clock.Now(), testKey(1)
		first := liveRecord("A", now.Add(time.Minute))
		if err := s.Save(ctx, key, first); err != nil {
			t.Fatalf("create: got error %v, want nil", err)
		}
		second := liveRecord("B", now.Add(time.Hour))
		second.Data = []byte("second")
		for range 2 {
			if err := s.Save(ctx, key, second); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("create over the live row: got error %v, want %v", err, store.ErrConflict)
			}
		}
		if got, err := s.Load(ctx, key); err != nil || got.UserID != "A" || got.Version != 1 {
			t.Fatalf("after the conflicts: got %+v, %v, want the first record at version 1", got, err)
		}

		clock.Advance(time.Minute)
		if err := s.Save(ctx, key, second); err != nil {
			t.Fatalf("create over the expired row: got error %v, want nil", err)
		}
		got, err := s.Load(ctx, key)
		if err != nil || got.UserID != "B" || string(got.Data) != "second" || got.Version != 1 {
			t.Fatalf("after replacing the expired row: got %+v, %v, want the second record at version 1", got, err)
		}
		if err := s.Save(ctx, key, first); !errors.Is(err, store.ErrConflict) {
			t.Errorf("create over the replacing row: got error %v, want %v", err, store.ErrConflict)
		}
	})
}

// TestCreateReplacesAnExpiredRowWithAnIdenticalOne saves, over an expired
// row, a record equal to it in every column, expiry included: the row
// must count as replaced even though no value changes.
func TestCreateReplacesAnExpiredRowWithAnIdenticalOne(t *testing.T) {
	t.Parallel()
	forEachDSN(t, func(t *testing.T, db *sql.DB) {
		clock := storetest.NewClock(time.Now())
		s := newStore(t, db, mysql.Config{Now: clock.Now})
		ctx, key := t.Context(), testKey(2)
		rec := liveRecord("A", clock.Now().Add(time.Minute))
		if err := s.Save(ctx, key, rec); err != nil {
			t.Fatalf("create: got error %v, want nil", err)
		}
		clock.Advance(time.Minute)
		for i := range 3 {
			if err := s.Save(ctx, key, rec); err != nil {
				t.Fatalf("create %d of the same expired record: got error %v, want nil", i+1, err)
			}
		}
		if _, err := s.Load(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Load of the expired record: got error %v, want %v", err, store.ErrNotFound)
		}
	})
}

// TestTouchThatChangesNothingFindsTheRecord touches a record with the times
// it already has: the UPDATE changes no time, yet must not report the
// record missing.
func TestTouchThatChangesNothingFindsTheRecord(t *testing.T) {
	t.Parallel()
	forEachDSN(t, func(t *testing.T, db *sql.DB) {
		s := newStore(t, db, mysql.Config{})
		ctx, key := t.Context(), testKey(3)
		rec := liveRecord("A", time.Now().Add(time.Hour))
		rec.LastSeen = time.Now()
		if err := s.Save(ctx, key, rec); err != nil {
			t.Fatalf("create: got error %v, want nil", err)
		}
		for i := range 3 {
			if err := s.Touch(ctx, key, rec.LastSeen, rec.Expires); err != nil {
				t.Fatalf("Touch %d with the stored times: got error %v, want nil", i+1, err)
			}
		}
		rec.Version = 1
		if err := s.Save(ctx, key, rec); err != nil {
			t.Fatalf("Save of an unchanged record: got error %v, want nil", err)
		}
		if got, err := s.Load(ctx, key); err != nil || got.Version != 2 {
			t.Errorf("after the touches and the save: got %+v, %v, want version 2", got, err)
		}
	})
}

func TestSaveRefusesValuesTooLongForTheirColumns(t *testing.T) {
	t.Parallel()
	s := newStore(t, sharedDB(t), mysql.Config{})
	long := func(n int) string { return strings.Repeat("x", n) }
	for _, tc := range []struct {
		what string
		key  string
		edit func(r *store.Record)
	}{
		{"a 256-byte key", long(256), func(r *store.Record) {}},
		{"a 256-byte user ID", testKey(4), func(r *store.Record) { r.UserID = long(256) }},
		{"a 256-byte IP", testKey(4), func(r *store.Record) { r.IP = long(256) }},
		{"a 1025-byte user agent", testKey(4), func(r *store.Record) { r.UserAgent = long(1025) }},
	} {
		rec := liveRecord("A", time.Now().Add(time.Hour))
		tc.edit(rec)
		err := s.Save(t.Context(), tc.key, rec)
		if err == nil || !strings.HasPrefix(err.Error(), "mysql store: save: ") || errors.Is(err, store.ErrConflict) {
			t.Errorf("Save with %s: got error %v, want a save error", tc.what, err)
		}
		if _, err := s.Load(t.Context(), tc.key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Load after the Save with %s: got error %v, want %v", tc.what, err, store.ErrNotFound)
		}
	}
	rec := liveRecord(long(255), time.Now().Add(time.Hour))
	rec.IP, rec.UserAgent = long(255), long(1024)
	if err := s.Save(t.Context(), long(255), rec); err != nil {
		t.Errorf("Save with every field at its longest: got error %v, want nil", err)
	}
}

func TestTimesOutsideTheNanosecondRangeKeepTheirSide(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Now())
	s := newStore(t, sharedDB(t), mysql.Config{Now: clock.Now})
	ctx := t.Context()
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := &store.Record{Expires: far, Deadline: far, Created: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)}
	if err := s.Save(ctx, testKey(5), rec); err != nil {
		t.Fatalf("Save: got error %v, want nil", err)
	}
	got, err := s.Load(ctx, testKey(5))
	if err != nil {
		t.Fatalf("Load of a record expiring in 9999: got error %v, want nil", err)
	}
	if got.Expires.Year() != 2262 || got.Created.Year() != 1677 {
		t.Errorf("got Expires %v and Created %v, want them clamped to 2262 and 1677", got.Expires, got.Created)
	}

	past := &store.Record{Expires: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), Deadline: far}
	if err := s.Save(ctx, testKey(6), past); err != nil {
		t.Fatalf("Save: got error %v, want nil", err)
	}
	if _, err := s.Load(ctx, testKey(6)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Load of a record that expired in the year 1000: got error %v, want %v", err, store.ErrNotFound)
	}
}
