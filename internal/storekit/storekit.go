// Package storekit holds what keycard's stores share: how a record's times
// are kept (Unix nanoseconds), the defaults and checks of the SQL stores'
// common Config fields, and the shape of a session key. It is internal to
// the repository; the driver-backed stores, each its own module, import it
// by path.
package storekit

import (
	"fmt"
	"math"
	"time"
)

// The defaults of the Config fields every SQL store has.
const (
	// DefaultTable is the sessions table of a Config with no Table.
	DefaultTable = "keycard_sessions"

	// DefaultSweepBatch is how many records one statement of Sweep
	// deletes when Config.SweepBatch is zero.
	DefaultSweepBatch = 1000
)

// The range of times that int64 Unix nanoseconds can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// Nanos returns t as Unix nanoseconds, the way every store keeps a
// record's times: the zero time is 0, and a time outside the years 1678
// to 2262, which int64 nanoseconds cannot hold, is clamped to the nearest
// one they can, so that a limit before 1678 stays in the past and one after
// April 2262 ends then. Any other time gives t.UnixNano().
func Nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// FromNanos is the inverse of Nanos: 0 is the zero time, anything else a
// UTC time.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// ValidHash reports whether h has the shape of a session hash, the key the
// Manager stores a session under: 64 lowercase hexadecimal digits.
func ValidHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// TableRule is which names a store accepts as its Config.Table (a SQL
// store) or Config.Collection (the MongoDB store). Every
// name is an identifier that needs no quoting: ASCII letters, digits and
// underscores, not starting with a digit, so that no name can change what
// a statement does.
type TableRule struct {
	// MaxLen bounds the table's own name, in bytes.
	MaxLen int

	// Upper accepts the letters A to Z too; otherwise only lowercase
	// names are valid, to match an unquoted name in a hand-written
	// migration on servers that fold names to lower case.
	Upper bool

	// Qualified accepts one schema before the name and a dot
	// ("auth.sessions"); the schema is at most 63 bytes.
	Qualified bool

	// Field is the Config field that errors name; "Table" if empty.
	Field string
}

// maxSchema bounds the schema of a qualified table name.
const maxSchema = 63

// Check reports why table is not a name r accepts, in an error that starts
// with the store's name ("postgres store: invalid Config.Table ..."), or
// nil if it is one.
func (r TableRule) Check(store, table string) error {
	name := table
	if r.Qualified {
		for i := range len(table) {
			if table[i] == '.' {
				if !r.identifier(table[:i], maxSchema) {
					name = "" // refused below
				} else {
					name = table[i+1:]
				}
				break
			}
		}
	}
	if r.identifier(name, r.MaxLen) {
		return nil
	}
	letters, want := "a-z", "a lowercase identifier"
	if r.Upper {
		letters, want = "A-Za-z", "an identifier"
	}
	why := fmt.Sprintf("want %s ([%s_][%s0-9_]*) of at most %d bytes", want, letters, letters, r.MaxLen)
	if r.Qualified {
		why += fmt.Sprintf(", optionally after a schema of at most %d and a dot", maxSchema)
	}
	field := r.Field
	if field == "" {
		field = "Table"
	}
	return fmt.Errorf("%s store: invalid Config.%s %q: %s", store, field, table, why)
}

// identifier reports whether s is an identifier of 1 to max bytes that r
// accepts.
func (r TableRule) identifier(s string, max int) bool {
	if len(s) == 0 || len(s) > max || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || r.Upper && 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// Defaults sets the Config fields that every SQL store has to their
// defaults where they are zero (DefaultTable, time.Now,
// DefaultSweepBatch), and reports the first invalid one, a table that rule
// refuses or a negative sweep batch, in an error that starts with the
// store's name.
func Defaults(store string, rule TableRule, table *string, now *func() time.Time, sweepBatch *int) error {
	if *table == "" {
		*table = DefaultTable
	}
	if err := rule.Check(store, *table); err != nil {
		return err
	}
	if *now == nil {
		*now = time.Now
	}
	switch {
	case *sweepBatch < 0:
		return fmt.Errorf("%s store: negative Config.SweepBatch %d", store, *sweepBatch)
	case *sweepBatch == 0:
		*sweepBatch = DefaultSweepBatch
	}
	return nil
}
