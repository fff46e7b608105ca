package memcached

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"

	"github.com/bradfitz/gomemcache/memcache"
)

// errChunkMissing reports that a chunk of a record's data is gone: a
// concurrent save replaced the record (and deleted its old chunks), or
// memcached evicted the chunk.
var errChunkMissing = errors.New("chunk missing")

// writeChunks stores data as chunks of at most s.chunkSize bytes under
// fresh keys derived from main and a random nonce, each with expiration
// exp, and returns their reference. Each chunk is written with add, so a
// chunk key is never overwritten: a reader that finds a chunk finds the
// bytes the record's writer put there. On failure it deletes the chunks
// it wrote.
func (s *Store) writeChunks(ctx context.Context, main string, data []byte, exp int32) (chunkRef, error) {
	var n [8]byte
	rand.Read(n[:])
	ref := chunkRef{
		nonce: binary.LittleEndian.Uint64(n[:]),
		count: (len(data) + s.chunkSize - 1) / s.chunkSize,
		size:  len(data),
	}
	for i := range ref.count {
		err := ctx.Err()
		if err == nil {
			part := data[i*s.chunkSize : min((i+1)*s.chunkSize, len(data))]
			err = s.c.Add(&memcache.Item{Key: chunkKey(main, ref.nonce, i), Value: part, Expiration: exp})
		}
		if err != nil {
			s.deleteChunks(main, chunkRef{nonce: ref.nonce, count: i})
			return chunkRef{}, err
		}
	}
	return ref, nil
}

// readChunks fetches the chunks of ref in one request per server and
// returns the data they hold, or errChunkMissing if one is gone.
func (s *Store) readChunks(main string, ref chunkRef) ([]byte, error) {
	keys := make([]string, ref.count)
	for i := range keys {
		keys[i] = chunkKey(main, ref.nonce, i)
	}
	items, err := s.c.GetMulti(keys)
	if err != nil {
		return nil, err
	}
	data := make([]byte, 0, ref.size)
	for _, key := range keys {
		it, ok := items[key]
		if !ok {
			return nil, errChunkMissing
		}
		data = append(data, it.Value...)
	}
	if len(data) != ref.size {
		return nil, errChunkMissing
	}
	return data, nil
}

// deleteChunks deletes the chunks of ref, if any, ignoring errors: a
// chunk left behind is unreachable, since its random nonce was only in the
// record's item, and memcached drops it at its expiration (the record's
// absolute deadline) or evicts it sooner, as it is never read.
func (s *Store) deleteChunks(main string, ref chunkRef) {
	for i := range ref.count {
		s.c.Delete(chunkKey(main, ref.nonce, i))
	}
}
