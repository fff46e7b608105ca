package redis

import "time"

// DefaultPrefix is the key prefix used when Config.Prefix is empty.
const DefaultPrefix = "keycard:"

// Config configures a Store. The zero value is a valid configuration.
type Config struct {
	// Prefix starts every key the store writes, so several applications
	// (or test runs) can share one Redis: records live at Prefix+"s:"+key
	// and user indexes at Prefix+"u:{"+user+"}". It must not contain '{'
	// or '}', which would change how Redis Cluster places keys; New panics
	// if it does. If empty, DefaultPrefix ("keycard:") is used.
	Prefix string

	// Now returns the current time, against which records count as
	// expired. Records also expire in Redis itself at their absolute
	// Expires or Deadline, whatever Now says. It must be safe for
	// concurrent use. If nil, time.Now is used.
	Now func() time.Time
}
