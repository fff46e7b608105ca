package mysql

import (
	"errors"
	"fmt"
	"time"
)

const (
	// DefaultTable is the table a Store uses when Config.Table is empty.
	DefaultTable = "keycard_sessions"

	// DefaultSweepBatch is how many records each DELETE of Sweep removes
	// when Config.SweepBatch is zero.
	DefaultSweepBatch = 1000
)

// Config configures a Store. The zero value is a valid configuration.
type Config struct {
	// Table is the name of the sessions table, unquoted: 1 to 64 ASCII
	// letters, digits and underscores, not starting with a digit. It may
	// not name a database ("db.table"): the table lives in the database
	// of the connection. If empty, "keycard_sessions" is used.
	Table string

	// Now returns the current time, against which records expire. It must
	// be safe for concurrent use. The server's clock is never consulted,
	// so every instance should keep its clock in sync. If nil, time.Now is
	// used.
	Now func() time.Time

	// SweepBatch is how many expired records each DELETE statement of
	// Sweep removes, bounding how long one statement holds its locks. If
	// zero, 1000 is used.
	SweepBatch int
}

// withDefaults returns c with every zero field set to its default, or an
// error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if err := checkTable(c.Table); err != nil {
		return c, err
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SweepBatch < 0 {
		return c, errors.New("mysql store: negative Config.SweepBatch")
	}
	if c.SweepBatch == 0 {
		c.SweepBatch = DefaultSweepBatch
	}
	return c, nil
}

// checkTable reports whether table is a name the store can put in its
// statements as it is: quoting is then only a matter of style, and no
// table name can change what a statement does.
func checkTable(table string) error {
	ok := len(table) >= 1 && len(table) <= 64 && !('0' <= table[0] && table[0] <= '9')
	for i := 0; ok && i < len(table); i++ {
		c := table[i]
		ok = c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	if !ok {
		return fmt.Errorf("mysql store: invalid Config.Table %q: want 1 to 64 ASCII letters, digits and underscores, not starting with a digit", table)
	}
	return nil
}
