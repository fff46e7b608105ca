package mysql

import (
	"time"

	"github.com/keycard-go/keycard/internal/storekit"
)

const (
	// DefaultTable is the table a Store uses when Config.Table is empty.
	DefaultTable = storekit.DefaultTable

	// DefaultSweepBatch is how many records each DELETE of Sweep removes
	// when Config.SweepBatch is zero.
	DefaultSweepBatch = storekit.DefaultSweepBatch
)

// tableRule is which names Config.Table may be: names the store can put in
// its statements as they are, so that quoting is only a matter of style
// and no table name can change what a statement does.
var tableRule = storekit.TableRule{MaxLen: 64, Upper: true}

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
	// zero, [DefaultSweepBatch] (1,000) is used; a negative value is an
	// error.
	SweepBatch int
}

// withDefaults returns c with every zero field set to its default, or an
// error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	err := storekit.Defaults("mysql", tableRule, &c.Table, &c.Now, &c.SweepBatch)
	return c, err
}
