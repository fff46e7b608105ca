package memcached

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/keycard-go/keycard/store"
)

// casAttempts bounds how often a Save or Touch retries a compare-and-swap
// that lost to a concurrent write which did not change the record's
// version (a Touch), and how often Load rereads a record whose chunks
// were replaced while it read them.
const casAttempts = 32

// Store is a session store over memcached. It implements [store.Store]
// and [store.RecordLoader], and deliberately not [store.UserIndex]: see the
// package documentation.
// Its methods are safe for concurrent use. It starts no goroutine and owns
// nothing: the client stays the caller's, to configure and to close.
// Create a Store with New; the zero Store is not usable.
type Store struct {
	c         *memcache.Client
	prefix    string
	now       func() time.Time
	chunkSize int
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.RecordLoader = (*Store)(nil)
)

// New returns a store that keeps sessions in the memcached server or
// servers of client, configured by cfg. The client is the caller's: set
// its Timeout (which bounds every round trip, as gomemcache takes no
// context), MaxIdleConns (at least the number of concurrent requests) and
// DialContext (for TLS) there. New panics if client is nil or a field of
// cfg is invalid.
func New(client *memcache.Client, cfg Config) *Store {
	if client == nil {
		panic("memcached store: nil client")
	}
	cfg = cfg.withDefaults()
	return &Store{
		c:         client,
		prefix:    cfg.Prefix,
		now:       cfg.Now,
		chunkSize: cfg.MaxItemSize - itemOverhead,
	}
}

// Load returns the record stored under key, or [store.ErrNotFound] if
// there is none or it has expired. It makes one round trip (a get), two
// for a record whose data is in chunks.
func (s *Store) Load(ctx context.Context, key string) (*store.Record, error) {
	rec := new(store.Record)
	if err := s.LoadRecord(ctx, key, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// LoadRecord sets *rec to the live record under key, as Load returns it,
// without allocating a Record, or reports [store.ErrNotFound]. It makes
// one round trip (a get), two for a record whose data is in chunks.
func (s *Store) LoadRecord(ctx context.Context, key string, rec *store.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memcached store: load: %w", err)
	}
	var out store.Record
	err := s.load(ctx, s.itemKey(key), s.now(), &out)
	if err == store.ErrNotFound {
		return err
	}
	if err != nil {
		return fmt.Errorf("memcached store: load: %w", err)
	}
	*rec = out
	return nil
}

// load reads the record whose item key is main into *rec, which it may
// have changed when it reports an error.
func (s *Store) load(ctx context.Context, main string, now time.Time, rec *store.Record) error {
	var lastCAS uint64
	for attempt := 0; ; attempt++ {
		it, e, err := s.getInto(main, rec)
		if err != nil {
			return err
		}
		if !rec.Live(now) {
			return store.ErrNotFound
		}
		if e.chunks.count == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := s.readChunks(main, e.chunks)
		switch {
		case err == nil:
			rec.Data = data
			return nil
		case err != errChunkMissing:
			return err
		case attempt > 0 && it.CasID == lastCAS:
			// The same item twice, with a chunk missing both times: the
			// chunk was evicted, and the session with it. Expire the item,
			// unless a writer replaced it meanwhile, so that every method
			// agrees it is gone.
			it.Expiration = expireNow
			s.c.CompareAndSwap(it)
			return store.ErrNotFound
		case attempt == casAttempts:
			return errors.New("record replaced too often while its chunks were read")
		}
		// A writer may have replaced the record and deleted its old
		// chunks: read it again.
		lastCAS = it.CasID
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// get fetches and decodes the item of the record whose item key is main,
// or returns store.ErrNotFound if there is none.
func (s *Store) get(main string) (*memcache.Item, *entry, error) {
	it, e, err := s.getInto(main, new(store.Record))
	if err != nil {
		return nil, nil, err
	}
	return it, &e, nil
}

// getInto is get decoding the record into *rec, which it may have
// changed when it reports an error; the entry's rec is rec.
func (s *Store) getInto(main string, rec *store.Record) (*memcache.Item, entry, error) {
	it, err := s.c.Get(main)
	if err == memcache.ErrCacheMiss {
		return nil, entry{}, store.ErrNotFound
	}
	if err != nil {
		return nil, entry{}, err
	}
	e, err := decodeEntryInto(it.Value, rec)
	if err != nil {
		return nil, entry{}, err
	}
	return it, e, nil
}

// Save stores rec under key if the stored version is rec.Version (0 for
// no live record), and reports [store.ErrConflict] otherwise.
//
// A create (version 0) is one add, plus a get and a compare-and-swap when
// an item is in the way: an expired record still held by memcached counts
// as absent and is replaced. An update is two round trips: a get, to
// compare the stored version, then a compare-and-swap (cas) conditioned
// on the item being unchanged since that get. A record too large for one
// item costs one more round trip per chunk of its data.
func (s *Store) Save(ctx context.Context, key string, rec *store.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memcached store: save: %w", err)
	}
	var err error
	if rec.Version == 0 {
		err = s.create(ctx, s.itemKey(key), rec, s.now())
	} else {
		err = s.update(ctx, s.itemKey(key), rec, s.now())
	}
	if err != nil && err != store.ErrConflict {
		return fmt.Errorf("memcached store: save: %w", err)
	}
	return err
}

// create stores rec at version 1 unless a live record is in the way.
func (s *Store) create(ctx context.Context, main string, rec *store.Record, now time.Time) error {
	it, ref, err := s.newItem(ctx, main, rec, 1, now)
	if err != nil {
		return err
	}
	stored := false
	defer func() {
		if !stored {
			s.deleteChunks(main, ref)
		}
	}()
	for attempt := range casAttempts {
		if err := pause(ctx, attempt); err != nil {
			return err
		}
		err := s.c.Add(it)
		if err == nil {
			stored = true
			return nil
		}
		if err != memcache.ErrNotStored {
			return err
		}
		// Something is in the way. A live record is a conflict; an
		// expired one counts as absent, and is replaced unless another
		// writer changes it first.
		old, e, err := s.get(main)
		switch {
		case err == store.ErrNotFound:
			continue // gone since the add: add again
		case err != nil:
			return err
		case e.rec.Live(now):
			return store.ErrConflict
		}
		it.CasID = old.CasID
		switch err := s.c.CompareAndSwap(it); {
		case err == nil:
			stored = true
			s.deleteChunks(main, e.chunks)
			return nil
		case err == memcache.ErrCASConflict:
			return store.ErrConflict
		case !gone(err):
			return err
		}
	}
	return store.ErrConflict
}

// update stores rec at version rec.Version+1 if the stored record is live
// at version rec.Version.
func (s *Store) update(ctx context.Context, main string, rec *store.Record, now time.Time) error {
	old, e, err := s.get(main)
	switch {
	case err == store.ErrNotFound:
		return store.ErrConflict
	case err != nil:
		return err
	case e.version != rec.Version || !e.rec.Live(now):
		return store.ErrConflict
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	it, ref, err := s.newItem(ctx, main, rec, rec.Version+1, now)
	if err != nil {
		return err
	}
	stored := false
	defer func() {
		if !stored {
			s.deleteChunks(main, ref)
		}
	}()
	for attempt := 0; ; attempt++ {
		if err := pause(ctx, attempt); err != nil {
			return err
		}
		it.CasID = old.CasID
		err := s.c.CompareAndSwap(it)
		switch {
		case err == nil:
			stored = true
			s.deleteChunks(main, e.chunks)
			return nil
		case gone(err):
			return store.ErrConflict
		case err != memcache.ErrCASConflict:
			return err
		case attempt+1 == casAttempts:
			return store.ErrConflict
		}
		// The item changed since the get. If a Touch changed it, the
		// version is still the one rec names: try again over it.
		if err := ctx.Err(); err != nil {
			return err
		}
		old, e, err = s.get(main)
		switch {
		case err == store.ErrNotFound:
			return store.ErrConflict
		case err != nil:
			return err
		case e.version != rec.Version || !e.rec.Live(now):
			return store.ErrConflict
		}
	}
}

// newItem returns the item that stores rec at version under the item key
// main. When rec does not fit in one item, it first writes rec's data as
// chunks, whose reference it returns for the caller to delete if the item
// is not stored.
func (s *Store) newItem(ctx context.Context, main string, rec *store.Record, version uint64, now time.Time) (*memcache.Item, chunkRef, error) {
	wall := time.Now()
	e := &entry{version: version, rec: rec}
	value := e.encode()
	if len(value) > s.chunkSize {
		ref, err := s.writeChunks(ctx, main, rec.Data, expiration(rec.Deadline, now, wall))
		if err != nil {
			return nil, chunkRef{}, err
		}
		e.chunks = ref
		value = e.encode()
	}
	exp := expiration(recordUntil(rec.Expires, rec.Deadline), now, wall)
	return &memcache.Item{Key: main, Value: value, Expiration: exp}, e.chunks, nil
}

// Delete removes the record stored under key, if any. It makes two round
// trips, a get and a delete, so that it can also delete the chunks of a
// record too large for one item; one, the get, when there is no record.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memcached store: delete: %w", err)
	}
	main := s.itemKey(key)
	it, err := s.c.Get(main)
	if err == memcache.ErrCacheMiss {
		return nil
	}
	if err != nil {
		return fmt.Errorf("memcached store: delete: %w", err)
	}
	if err := s.c.Delete(main); err != nil && err != memcache.ErrCacheMiss {
		return fmt.Errorf("memcached store: delete: %w", err)
	}
	if e, err := decodeEntry(it.Value); err == nil {
		s.deleteChunks(main, e.chunks)
	}
	return nil
}

// Touch sets LastSeen and Expires of the live record under key, keeping
// its version, and gives its item a new expiration, or reports
// [store.ErrNotFound] if there is none. It is a get and a compare-and-swap
// of the whole record item: memcached's own touch command changes only an
// item's expiration and could not record LastSeen. A Touch that loses the
// compare-and-swap to a concurrent write tries again.
func (s *Store) Touch(ctx context.Context, key string, lastSeen, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memcached store: touch: %w", err)
	}
	err := s.touch(ctx, s.itemKey(key), lastSeen, expires, s.now())
	if err != nil && err != store.ErrNotFound {
		return fmt.Errorf("memcached store: touch: %w", err)
	}
	return err
}

func (s *Store) touch(ctx context.Context, main string, lastSeen, expires, now time.Time) error {
	for attempt := range casAttempts {
		if err := pause(ctx, attempt); err != nil {
			return err
		}
		it, e, err := s.get(main)
		if err != nil {
			return err
		}
		if !e.rec.Live(now) {
			return store.ErrNotFound
		}
		e.rec.LastSeen, e.rec.Expires = lastSeen, expires
		it.Value = e.encode()
		it.Expiration = expiration(recordUntil(expires, e.rec.Deadline), now, time.Now())
		switch err := s.c.CompareAndSwap(it); {
		case err == nil:
			return nil
		case gone(err):
			return store.ErrNotFound
		case err != memcache.ErrCASConflict:
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return fmt.Errorf("lost %d compare-and-swaps in a row to concurrent writes", casAttempts)
}

// gone reports whether a compare-and-swap failed because the item no
// longer exists: gomemcache reports ErrNotStored or, for memcached's
// NOT_FOUND reply, ErrCacheMiss.
func gone(err error) bool {
	return err == memcache.ErrNotStored || err == memcache.ErrCacheMiss
}

// Retry pauses: before retry number attempt of a compare-and-swap loop, a
// random wait up to min(pauseBase << attempt, pauseCap), so that writers
// racing on one record spread out.
const (
	pauseBase = 50 * time.Microsecond
	pauseCap  = 5 * time.Millisecond
)

// pause waits before retry number attempt (none before the first two), or
// returns ctx's error.
func pause(ctx context.Context, attempt int) error {
	if err := ctx.Err(); err != nil || attempt < 2 {
		return err
	}
	limit := pauseCap
	if attempt < 16 && pauseBase<<attempt < pauseCap {
		limit = pauseBase << attempt
	}
	var b [8]byte
	rand.Read(b[:])
	t := time.NewTimer(time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(limit)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
