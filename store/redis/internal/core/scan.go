package core

import (
	"context"
	"strings"

	"github.com/keycard-go/keycard/store"
)

// Node is one server that holds part of the keyspace: the only server of
// a standalone deployment, or one master of a Redis Cluster.
type Node interface {
	// Scan runs one SCAN step from cursor over string keys matching the
	// glob pattern match, with COUNT count, and returns the next cursor
	// (0 when the walk is done) and the keys it found.
	Scan(ctx context.Context, cursor uint64, match string, count int64) (next uint64, keys []string, err error)

	// DBSize returns how many keys the server holds, of every prefix.
	DBSize(ctx context.Context) (int64, error)
}

// Scan walks the keyspace of the store, calling fn for each live record.
//
// SCAN visits every key that exists for the whole walk, but may return a
// key more than once (when the server resizes its table), so the walk
// remembers the keys it has passed to fn. To keep that memory bounded,
// the keyspace is cut into parts by the leading hex digits of the key
// (every key the Manager makes is 64 lowercase hex digits) and each part
// is walked, and remembered, on its own: as many parts as needed for the
// servers' total key count, over ScanBound, to fit ScanBound keys each.
// Records are fetched and handed to fn one SCAN batch at a time.
func (s *Store) Scan(ctx context.Context, fn func(store.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return fail("scan", err)
	}
	nodes, err := s.b.Masters(ctx)
	if err != nil {
		return fail("scan", err)
	}
	var total int64
	for _, n := range nodes {
		size, err := n.DBSize(ctx)
		if err != nil {
			return fail("scan", err)
		}
		total += size
	}
	digits := 0
	for total>>(4*digits) > int64(s.scanBound) && digits < maxScanDigits {
		digits++
	}
	base := s.recordKey("")
	for _, pattern := range scanPatterns(globEscaper.Replace(base), digits) {
		seen := make(map[string]struct{})
		for _, n := range nodes {
			if err := s.scanNode(ctx, n, pattern, len(base), seen, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanNode walks one node with pattern, fetches the records of keys not
// in seen, one batch at a time, and calls fn for the live ones. Errors of
// fn come back as they are, and the store's wrapped.
func (s *Store) scanNode(ctx context.Context, n Node, pattern string, skip int, seen map[string]struct{}, fn func(store.Entry) error) error {
	var cursor uint64
	for {
		next, keys, err := n.Scan(ctx, cursor, pattern, scanCount)
		if err != nil {
			return fail("scan", err)
		}
		fresh := keys[:0]
		for _, k := range keys {
			if _, dup := seen[k]; !dup && len(k) >= skip {
				seen[k] = struct{}{}
				fresh = append(fresh, k)
			}
		}
		if len(fresh) > 0 {
			values, err := s.b.GetMulti(ctx, fresh)
			if err != nil {
				return fail("scan", err)
			}
			now := s.now()
			for i, v := range values {
				if v == nil { // deleted or expired since SCAN saw it
					continue
				}
				rec, _, err := decodeValue(v)
				if err != nil {
					return fail("scan", err)
				}
				if !rec.Live(now) {
					continue
				}
				if err := fn(store.Entry{Key: fresh[i][skip:], Record: rec}); err != nil {
					return err
				}
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

const (
	// DefaultScanBound is how many keys one part of a Scan may hold
	// (and remember) when Config.ScanBound is zero: about 7 MB of keys.
	DefaultScanBound = 1 << 16

	// scanCount is the COUNT of each SCAN: how many slots of the
	// server's table one step looks at.
	scanCount = 1000

	// maxScanDigits bounds the leading hex digits that cut the keyspace
	// into parts: 16⁴ parts of DefaultScanBound keys each hold four
	// billion keys.
	maxScanDigits = 4
)

// scanPatterns returns glob patterns that split the keys under base (a
// glob-escaped prefix) into disjoint parts that together hold every key:
// with digits 0, the one pattern base*; otherwise one pattern per string
// of that many lowercase hex digits, then the keys that do not start with
// that many: those with a non-hex character at position j after j hex
// digits, and those of only j hex digits, for each j below digits.
func scanPatterns(base string, digits int) []string {
	if digits == 0 {
		return []string{base + "*"}
	}
	const hexDigits = "0123456789abcdef"
	leads := []string{""}
	for range digits {
		next := make([]string, 0, len(leads)*16)
		for _, l := range leads {
			for i := range hexDigits {
				next = append(next, l+hexDigits[i:i+1])
			}
		}
		leads = next
	}
	patterns := make([]string, 0, len(leads)+2*digits)
	for _, l := range leads {
		patterns = append(patterns, base+l+"*")
	}
	for j := range digits {
		hexRun := base + strings.Repeat("[0-9a-f]", j)
		patterns = append(patterns, hexRun+"[^0-9a-f]*", hexRun)
	}
	return patterns
}

// globEscaper escapes the characters that are special in a SCAN MATCH
// pattern, so that a key prefix matches only itself.
var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
