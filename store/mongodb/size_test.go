package mongodb_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/mongodb"
)

// TestBytesPerSession measures the server's storage per session, documents
// and indexes together (collStats totalSize), for sessions like the other
// stores' size tests: 200 bytes of data, a 110-byte user agent, one user
// each. The package doc quotes its result on FerretDB, where 2,000
// sessions take a minute or two (each write waits for SQLite's commit).
func TestBytesPerSession(t *testing.T) {
	if testing.Short() {
		t.Skip("saves 2,000 sessions")
	}
	t.Parallel()
	const sessions, workers = 2_000, 4
	client := sharedClient(t)
	s := newStore(t, client, mongodb.Config{})
	now := time.Now()
	base := store.Record{
		Created: now, LastSeen: now, AuthTime: now, Expires: now.Add(30 * time.Minute), Deadline: now.Add(8 * time.Hour),
		IP:        "203.0.113.7",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.",
		Data:      bytes.Repeat([]byte("0123456789"), 20),
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < sessions; i += workers {
				rec := base
				rec.UserID = fmt.Sprintf("user-%06d", i)
				if err := s.Save(t.Context(), fmt.Sprintf("%064x", i), &rec); err != nil {
					t.Errorf("Save: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	var stats struct {
		Count          int64 `bson:"count"`
		Size           int64 `bson:"size"`
		StorageSize    int64 `bson:"storageSize"`
		TotalIndexSize int64 `bson:"totalIndexSize"`
		TotalSize      int64 `bson:"totalSize"`
	}
	cmd := bson.D{{Key: "collStats", Value: s.Collection().Name()}}
	if err := s.Collection().Database().RunCommand(t.Context(), cmd).Decode(&stats); err != nil {
		t.Fatal(err)
	}
	total := stats.TotalSize
	if total == 0 {
		total = stats.StorageSize + stats.TotalIndexSize
	}
	t.Logf("%d sessions (%d documents): %d bytes per session in all (documents %d, storage %d, indexes %d)",
		sessions, stats.Count, total/sessions, stats.Size/sessions, stats.StorageSize/sessions, stats.TotalIndexSize/sessions)
	if stats.Count != sessions {
		t.Errorf("collStats counts %d documents, want %d", stats.Count, sessions)
	}
	if total/sessions > 4000 {
		t.Errorf("got %d bytes per session, want well under 4 KB", total/sessions)
	}
}
