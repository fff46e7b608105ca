package storekit

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestNanosRoundTripsAndClamps(t *testing.T) {
	for _, c := range []struct {
		in   time.Time
		n    int64
		back time.Time
	}{
		{time.Time{}, 0, time.Time{}},
		{time.Unix(0, 1), 1, time.Unix(0, 1).UTC()},
		{time.Unix(1700000000, 5).In(time.FixedZone("x", 3600)), 1700000000_000000005, time.Unix(1700000000, 5).UTC()},
		{time.Unix(0, math.MaxInt64), math.MaxInt64, time.Unix(0, math.MaxInt64).UTC()},
		{time.Unix(0, math.MinInt64), math.MinInt64, time.Unix(0, math.MinInt64).UTC()},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64, time.Unix(0, math.MaxInt64).UTC()},
		{time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64, time.Unix(0, math.MinInt64).UTC()},
	} {
		n := Nanos(c.in)
		if n != c.n {
			t.Errorf("Nanos(%v) = %d, want %d", c.in, n, c.n)
		}
		if back := FromNanos(n); !back.Equal(c.back) || back.Location() != time.UTC {
			t.Errorf("FromNanos(%d) = %v, want %v in UTC", n, back, c.back)
		}
	}
}

func TestValidHash(t *testing.T) {
	for h, want := range map[string]bool{
		strings.Repeat("0af9", 16):       true,
		strings.Repeat("a", 63):          false,
		strings.Repeat("a", 65):          false,
		strings.Repeat("A", 64):          false,
		strings.Repeat("g", 64):          false,
		"":                               false,
		strings.Repeat("a", 63) + "\xff": false,
	} {
		if got := ValidHash(h); got != want {
			t.Errorf("ValidHash(%q) = %t, want %t", h, got, want)
		}
	}
}

func TestTableRules(t *testing.T) {
	lower := TableRule{MaxLen: 48}
	upper := TableRule{MaxLen: 64, Upper: true}
	qualified := TableRule{MaxLen: 48, Qualified: true}
	for _, c := range []struct {
		rule  TableRule
		table string
		ok    bool
	}{
		{lower, "keycard_sessions", true},
		{lower, "_s1", true},
		{lower, strings.Repeat("s", 48), true},
		{lower, strings.Repeat("s", 49), false},
		{lower, "Sessions", false},
		{lower, "1sessions", false},
		{lower, "main.sessions", false},
		{lower, `x"; DROP TABLE y; --`, false},
		{lower, "", false},
		{upper, "Sessions", true},
		{upper, strings.Repeat("S", 64), true},
		{upper, strings.Repeat("S", 65), false},
		{upper, "db.sessions", false},
		{upper, "sessions-1", false},
		{qualified, "auth.sessions", true},
		{qualified, strings.Repeat("a", 63) + "." + strings.Repeat("s", 48), true},
		{qualified, strings.Repeat("a", 64) + ".s", false},
		{qualified, "auth." + strings.Repeat("s", 49), false},
		{qualified, ".sessions", false},
		{qualified, "auth.", false},
		{qualified, "a.b.c", false},
		{qualified, "Auth.sessions", false},
	} {
		err := c.rule.Check("test", c.table)
		if (err == nil) != c.ok {
			t.Errorf("%+v.Check(%q) = %v, want ok %t", c.rule, c.table, err, c.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "test store: invalid Config.Table ") {
			t.Errorf("%+v.Check(%q) = %v, want it to start with the store's name", c.rule, c.table, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	var (
		table string
		now   func() time.Time
		batch int
	)
	if err := Defaults("test", TableRule{MaxLen: 48}, &table, &now, &batch); err != nil {
		t.Fatal(err)
	}
	if table != DefaultTable || now == nil || batch != DefaultSweepBatch {
		t.Errorf("got %q, %v, %d, want the defaults", table, now == nil, batch)
	}
	batch = -1
	if err := Defaults("test", TableRule{MaxLen: 48}, &table, &now, &batch); err == nil || !strings.HasPrefix(err.Error(), "test store: ") {
		t.Errorf("negative sweep batch: got %v, want an error naming the store", err)
	}
}
