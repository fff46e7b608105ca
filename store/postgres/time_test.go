package postgres

import (
	"math"
	"testing"
	"time"
)

func TestTimesRoundTripAsUnixNanoseconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   time.Time
		want time.Time
	}{
		{time.Time{}, time.Time{}},
		{time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC), time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)},
		{time.Date(2026, 11, 21, 10, 0, 0, 1, time.FixedZone("X", 3600)), time.Date(2026, 11, 21, 9, 0, 0, 1, time.UTC)},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, math.MaxInt64).UTC()},
		{time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, math.MinInt64).UTC()},
	} {
		got := fromNanos(nanos(tc.in))
		if !got.Equal(tc.want) || got.Location() != tc.want.Location() {
			t.Errorf("round trip of %v: got %v, want %v", tc.in, got, tc.want)
		}
	}
}
