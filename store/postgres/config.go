package postgres

import (
	"fmt"
	"regexp"
	"time"
)

const (
	// DefaultTable is the table a Store uses when Config.Table is empty.
	DefaultTable = "keycard_sessions"

	// defaultSweepBatch is how many records one statement of Sweep
	// deletes when Config.SweepBatch is zero.
	defaultSweepBatch = 1000

	// maxTableName bounds the table's own name (without its schema), so
	// the index names derived from it stay within PostgreSQL's 63 bytes.
	maxTableName = 48
)

// identifier is a lowercase unquoted PostgreSQL identifier. Upper case is
// refused because PostgreSQL folds unquoted names to lower case: a name
// that only works quoted would not match a team's hand-written migration.
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

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
	// holds many row locks or writes much WAL at once. If zero, 1,000 is
	// used; a negative value is an error.
	SweepBatch int
}

// withDefaults returns c with every zero field set to its default, or an
// error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if _, _, err := splitTable(c.Table); err != nil {
		return c, err
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.SweepBatch < 0:
		return c, fmt.Errorf("postgres store: negative Config.SweepBatch %d", c.SweepBatch)
	case c.SweepBatch == 0:
		c.SweepBatch = defaultSweepBatch
	}
	return c, nil
}

// splitTable splits a valid Config.Table into its schema, possibly empty,
// and its name, or reports why it is not valid.
func splitTable(table string) (schema, name string, err error) {
	name = table
	for i := range len(table) {
		if table[i] == '.' {
			schema, name = table[:i], table[i+1:]
			break
		}
	}
	bad := func(why string) error {
		return fmt.Errorf("postgres store: invalid Config.Table %q: %s", table, why)
	}
	switch {
	case schema != "" && !identifier.MatchString(schema) || table[0] == '.':
		return "", "", bad("the schema must be a lowercase identifier ([a-z_][a-z0-9_]*)")
	case !identifier.MatchString(name):
		return "", "", bad("the name must be a lowercase identifier ([a-z_][a-z0-9_]*), optionally after one schema and a dot")
	case len(name) > maxTableName:
		return "", "", bad(fmt.Sprintf("the name is longer than %d bytes", maxTableName))
	case len(schema) > 63:
		return "", "", bad("the schema is longer than 63 bytes")
	}
	return schema, name, nil
}
