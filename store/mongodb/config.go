package mongodb

import (
	"time"

	"github.com/keycard-go/keycard/internal/storekit"
)

const (
	// DefaultCollection is the collection a Store uses when
	// Config.Collection is empty.
	DefaultCollection = storekit.DefaultTable

	// DefaultSweepBatch is how many records one delete of Sweep removes
	// when Config.SweepBatch is zero.
	DefaultSweepBatch = storekit.DefaultSweepBatch
)

// collectionRule is which names Config.Collection may be: an identifier
// of ASCII letters, digits and underscores, not starting with a digit, of
// at most 64 bytes. MongoDB accepts more, but a name that needs no
// quoting in the shell or in a migration script is one fewer way to get
// it wrong; upper case is fine, since MongoDB folds nothing.
var collectionRule = storekit.TableRule{MaxLen: 64, Upper: true, Field: "Collection"}

// Config configures a Store. The zero value is a valid configuration.
type Config struct {
	// Collection is the collection of the database given to New that
	// holds the sessions: ASCII letters, digits and underscores, not
	// starting with a digit, at most 64 bytes. If empty,
	// "keycard_sessions" is used.
	Collection string

	// Now returns the current time, against which records expire. It
	// must be safe for concurrent use. If nil, time.Now is used. Records
	// count as expired by the application's clock; MongoDB's TTL monitor
	// removes them later by the server's.
	Now func() time.Time

	// SweepBatch is how many expired records one delete of Sweep removes;
	// Sweep repeats it until a batch comes back short. If zero,
	// [DefaultSweepBatch] (1,000) is used; a negative value is an error.
	SweepBatch int
}

// withDefaults returns c with every zero field set to its default, or an
// error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	err := storekit.Defaults("mongodb", collectionRule, &c.Collection, &c.Now, &c.SweepBatch)
	return c, err
}
