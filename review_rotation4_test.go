package keycard

import (
	"context"
	"net/http"
	"testing"

	"github.com/keycard-go/keycard/store"
)

// landedBatchStore is a batchStore whose next batch, once armed, lands
// and still reports store.ErrConflict: a client that retried the script
// after a lost reply, the case the markers' nonce covers for retire's
// own marker save.
type landedBatchStore struct {
	*batchStore
	armed bool
}

func (l *landedBatchStore) SaveBatch(ctx context.Context, entries []store.Entry) error {
	err := l.batchStore.SaveBatch(ctx, entries)
	if err == nil && l.armed {
		l.armed = false
		return store.ErrConflict
	}
	return err
}

func landedBatchFixture(t *testing.T) (*fixture, *landedBatchStore, *client) {
	l := &landedBatchStore{batchStore: &batchStore{countingStore: newCountingStore()}}
	f := newFixture(t, Config{Store: l})
	f.st = l.countingStore
	f.mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.Renew(r.Context(), FromContext(r.Context())); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	c := f.client()
	c.get("/login?u=alice")
	c.get("/put?k=a&v=1")
	return f, l, c
}

// A renewal over a store that batches, whose batch (new record and the
// old one's marker) lands but is reported a conflict, looks at the old
// key and finds its own marker (nonce and all): the move is done. It used
// to fall back to one save at a time, create a second new record under
// yet another ID, meet the batch's marker in retire and abandon the move:
// the user was signed out, and the batch's new record, a signed-in copy
// of the session that no cookie reached, stayed in alice's device list.
func TestReview4RenewalWhoseBatchLandedAsConflict(t *testing.T) {
	f, l, c := landedBatchFixture(t)
	l.armed = true
	res := c.do("GET", "/renew")
	if res.Code != http.StatusOK {
		t.Errorf("the renewal answered %d: %s", res.Code, res.Body.String())
	}
	if got := c.get("/user") + c.get("/get?k=a"); got != "alice1" {
		t.Errorf("after the renewal the client reads %q, want alice1", got)
	}
	infos, err := f.m.Sessions(context.Background(), "alice")
	if err != nil || len(infos) != 1 || infos[0].Hash != f.hashOf(c.cookie) {
		t.Errorf("alice's sessions: %d (err %v), want the client's alone", len(infos), err)
	}
}

// The same for a login (which kept its new record when retire abandoned
// the move: the client was signed in, but the batch's new record, a
// second signed-in copy of the session, outlived the login unreachable).
func TestReview4LoginWhoseBatchLandedAsConflict(t *testing.T) {
	f, l, c := landedBatchFixture(t)
	l.armed = true
	if res := c.do("GET", "/login?u=alice"); res.Code != http.StatusOK {
		t.Errorf("the login answered %d: %s", res.Code, res.Body.String())
	}
	if got := c.get("/user"); got != "alice" {
		t.Errorf("after the login the client is %q, want alice", got)
	}
	infos, err := f.m.Sessions(context.Background(), "alice")
	if err != nil || len(infos) != 1 || infos[0].Hash != f.hashOf(c.cookie) {
		t.Errorf("alice's sessions: %d (err %v), want the client's alone", len(infos), err)
	}
}
