package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keycard-go/keycard/store"
)

// DefaultPrefix is the key prefix when Config.Prefix is empty.
const DefaultPrefix = "keycard:"

// Config is the store's configuration, as the public packages document it.
type Config struct {
	Prefix string
	Now    func() time.Time

	// ScanBound is how many keys one part of a Scan holds at most; zero
	// means DefaultScanBound. Only tests set it, to make Scan cut a small
	// keyspace into parts.
	ScanBound int
}

// Store implements store.Store, store.UserIndex, store.Scanner and
// store.Batcher over a Backend.
type Store struct {
	b         Backend
	prefix    string
	now       func() time.Time
	scanBound int
}

// New returns a store over b. It panics if cfg.Prefix contains a brace,
// which would change how Redis Cluster places keys.
func New(b Backend, cfg Config) *Store {
	if strings.ContainsAny(cfg.Prefix, "{}") {
		panic("redis store: Config.Prefix must not contain '{' or '}'")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ScanBound <= 0 {
		cfg.ScanBound = DefaultScanBound
	}
	return &Store{b: b, prefix: cfg.Prefix, now: cfg.Now, scanBound: cfg.ScanBound}
}

// fail wraps err with the store's name and the operation.
func fail(op string, err error) error {
	return fmt.Errorf("redis store: %s: %w", op, err)
}

// errReply reports a script reply the store did not expect.
var errReply = errors.New("unexpected script reply")

// Load returns the live record under key, or store.ErrNotFound. It costs
// one GET.
func (s *Store) Load(ctx context.Context, key string) (*store.Record, error) {
	rec := new(store.Record)
	if err := s.LoadRecord(ctx, key, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// LoadRecord sets *rec to the live record under key, or reports
// store.ErrNotFound, leaving *rec as it was. It costs one GET.
func (s *Store) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	if err := ctx.Err(); err != nil {
		return fail("load", err)
	}
	b, err := s.b.Get(ctx, s.recordKey(key))
	if err != nil {
		return fail("load", err)
	}
	if b == nil {
		return store.ErrNotFound
	}
	var out store.Record
	if _, err := decodeValueInto(b, &out); err != nil {
		return fail("load", err)
	}
	if !out.Live(s.now()) {
		return store.ErrNotFound
	}
	*rec = out
	return nil
}

// Delete deletes the record under key, then its entry in its user's index.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fail("delete", err)
	}
	reply, err := s.b.Eval(ctx, scriptDelete, []string{s.recordKey(key)}, nil)
	switch {
	case err != nil:
		return fail("delete", err)
	case len(reply) != 2:
		return fail("delete", errReply)
	}
	if reply[0] != "" {
		s.removeFromIndex(ctx, reply[0], key, tokenOf(reply[1]))
	}
	return nil
}

// Touch sets LastSeen and Expires of the live record under key and moves
// its Redis expiry to the earlier of expires and its deadline. It reports
// store.ErrNotFound, creating nothing, when there is no live record.
func (s *Store) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return fail("touch", err)
	}
	args := []string{nanoBytes(s.now()), nanoBytes(lastSeen), nanoBytes(expires), strconv.FormatInt(ceilMillis(expires), 10)}
	reply, err := s.b.Eval(ctx, scriptTouch, []string{s.recordKey(key)}, args)
	switch {
	case err != nil:
		return fail("touch", err)
	case len(reply) != 1:
		return fail("touch", errReply)
	case reply[0] == "absent":
		return store.ErrNotFound
	}
	return nil
}

// tokenOf decodes an 8-byte token from a script reply; "" is 0.
func tokenOf(b string) uint64 {
	if len(b) != 8 {
		return 0
	}
	var t uint64
	for i := 0; i < 8; i++ {
		t = t<<8 | uint64(b[i])
	}
	return t
}
