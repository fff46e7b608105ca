package redis

import (
	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/store/redis/internal/core"
)

// NewWithScanBound returns a store whose Scan cuts the keyspace into parts
// of at most bound keys, so that a test's few keys take several parts.
func NewWithScanBound(client rueidis.Client, cfg Config, bound int) *Store {
	return &Store{s: core.New(newRueidisBackend(client), core.Config{Prefix: cfg.Prefix, Now: cfg.Now, ScanBound: bound})}
}
