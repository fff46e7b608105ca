package postgres

import (
	"time"

	"github.com/keycard-go/keycard/internal/storekit"
)

const (
	// DefaultTable is the table a Store uses when Config.Table is empty.
	DefaultTable = storekit.DefaultTable

	// DefaultSweepBatch is how many records one statement of Sweep
	// deletes when Config.SweepBatch is zero.
	DefaultSweepBatch = storekit.DefaultSweepBatch
)

// tableRule is which names Config.Table may be: a lowercase unquoted
// PostgreSQL identifier, optionally after a schema and a dot. Upper case
// is refused because PostgreSQL folds unquoted names to lower case: a name
// that only works quoted would not match a team's hand-written migration.
// The table's own name is at most 48 bytes, so the index names derived
// from it stay within PostgreSQL's 63 bytes.
var tableRule = storekit.TableRule{MaxLen: 48, Qualified: true}

// Config configures a Store. The zero value is a valid configuration.
type Config struct {
	// Table is the table that holds the sessions, optionally qualified by
	// its schema ("auth.sessions"). Each part must be a lowercase SQL
	// identifier: letters a to z, digits and underscores, not starting
	// with a digit; the table's own name is at most 48 bytes, so the
	// index names derived from it (TABLE_user_id_idx, TABLE_expiry_idx)
	// fit PostgreSQL's 63-byte limit. If empty, "keycard_sessions" is
	// used, in the first schema of the connection's search_path.
	Table string

	// Now returns the current time, against which records expire. It
	// must be safe for concurrent use. If nil, time.Now is used. Records
	// expire by the clock of the application, not the database server's.
	Now func() time.Time

	// SweepBatch is how many expired records one DELETE of Sweep removes;
	// Sweep repeats it until a batch comes back short, so no statement
	// holds many row locks or writes much WAL at once. If zero,
	// [DefaultSweepBatch] (1,000) is used; a negative value is an error.
	SweepBatch int
}

// withDefaults returns c with every zero field set to its default, or an
// error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	err := storekit.Defaults("postgres", tableRule, &c.Table, &c.Now, &c.SweepBatch)
	return c, err
}
