package sqlite

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/keycard-go/keycard/internal/storekit"
)

const (
	// DefaultTable is the table a Store uses when Config.Table is empty.
	DefaultTable = storekit.DefaultTable

	// DefaultSweepBatch is how many records one statement of Sweep
	// deletes when Config.SweepBatch is zero.
	DefaultSweepBatch = storekit.DefaultSweepBatch

	// defaultBusyTimeout is how long a connection opened by Open waits
	// for the write lock when Config.BusyTimeout is zero.
	defaultBusyTimeout = 5 * time.Second
)

// tableRule is which names Config.Table may be: plain lowercase SQL
// identifiers of at most 48 bytes, to keep error messages and the index
// names derived from them short. Upper case is refused, although SQLite
// would accept it, so that the names match those of the other SQL stores
// and a team's hand-written migration.
var tableRule = storekit.TableRule{MaxLen: 48}

// Config configures a Store. The zero value is a valid configuration.
type Config struct {
	// Table is the table that holds the sessions. It must be a lowercase
	// SQL identifier of at most 48 bytes: letters a to z, digits and
	// underscores, not starting with a digit. The store names its indexes
	// after it (TABLE_user_id_idx, TABLE_expiry_idx). If empty,
	// "keycard_sessions" is used.
	Table string

	// Now returns the current time, against which records expire. It
	// must be safe for concurrent use. If nil, time.Now is used.
	Now func() time.Time

	// SweepBatch is how many expired records one DELETE of Sweep removes;
	// Sweep repeats it until a batch comes back short, so no statement
	// holds the write lock for long. If zero, [DefaultSweepBatch] (1,000)
	// is used; a negative value is an error.
	SweepBatch int

	// BusyTimeout is how long a connection waits for the database's one
	// write lock, held by another connection or process, before a write
	// fails with SQLITE_BUSY. If zero, 5 seconds is used; a negative
	// value is an error. Only Open and DSN use it: with New, the DSN of
	// the caller's *sql.DB decides.
	BusyTimeout time.Duration

	// FullSync makes every write wait until the database file's journal
	// is on disk (PRAGMA synchronous=FULL), so that a write acknowledged
	// before a power loss or operating system crash survives it, at the
	// cost of an fsync per write. The default (false) is
	// synchronous=NORMAL, under which every acknowledged write survives
	// the process being killed but the last ones may be lost in a power
	// loss; see the package documentation. Only Open and DSN use it.
	FullSync bool
}

// withDefaults returns c with every zero field set to its default, or an
// error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if err := storekit.Defaults("sqlite", tableRule, &c.Table, &c.Now, &c.SweepBatch); err != nil {
		return c, err
	}
	switch {
	case c.BusyTimeout < 0:
		return c, fmt.Errorf("sqlite store: negative Config.BusyTimeout %v", c.BusyTimeout)
	case c.BusyTimeout == 0:
		c.BusyTimeout = defaultBusyTimeout
	}
	return c, nil
}

// DSN returns the data source name with which Open opens the database file
// at path, for the "sqlite" driver of modernc.org/sqlite: every connection
// sets busy_timeout from cfg.BusyTimeout, journal_mode=WAL, and
// synchronous=NORMAL, or FULL if cfg.FullSync is set. Use it to open a
// *sql.DB of your own for New:
//
//	db, err := sql.Open("sqlite", sqlite.DSN("sessions.db", sqlite.Config{}))
//
// Fields of cfg that DSN does not use are ignored.
func DSN(path string, cfg Config) string {
	timeout := cfg.BusyTimeout
	if timeout <= 0 {
		timeout = defaultBusyTimeout
	}
	ms := (timeout + time.Millisecond - 1) / time.Millisecond // rounded up, so never 0 (no waiting)
	sync := "NORMAL"
	if cfg.FullSync {
		sync = "FULL"
	}
	// A file: URI keeps a '?' or '#' in the path from being read as the
	// start of the parameters.
	p := filepath.ToSlash(path)
	if filepath.VolumeName(path) != "" {
		p = "/" + p // file:/C:/dir/file.db
	}
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: p}).EscapedPath()}
	q := url.Values{"_pragma": {
		"busy_timeout(" + strconv.FormatInt(int64(ms), 10) + ")",
		"journal_mode(WAL)",
		"synchronous(" + sync + ")",
	}}
	return u.String() + "?" + q.Encode()
}
