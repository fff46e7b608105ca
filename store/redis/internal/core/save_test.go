package core

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

// clusterBackend is the Backend of a Redis Cluster client that must not
// be used: any call but OneServer panics on the nil Backend it embeds.
type clusterBackend struct{ Backend }

func (clusterBackend) OneServer() bool { return false }

func TestSaveBatchOnAClusterSendsNothing(t *testing.T) {
	t.Parallel()
	s := New(clusterBackend{}, Config{})
	now := time.Now()
	rec := &store.Record{UserID: "alice", Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	entries := []store.Entry{{Key: strings.Repeat("a", 64), Record: rec}, {Key: strings.Repeat("b", 64), Record: rec}}
	err := s.SaveBatch(t.Context(), entries)
	if !errors.Is(err, store.ErrUnsupported) || err.Error() != "redis store: save batch: "+store.ErrUnsupported.Error() {
		t.Errorf("SaveBatch on a cluster: got %v, want %q", err, "redis store: save batch: "+store.ErrUnsupported.Error())
	}
}

func TestScriptArgumentsMatchTheirLayout(t *testing.T) {
	t.Parallel()
	s := New(clusterBackend{}, Config{})
	now := time.Now()
	rec := &store.Record{Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
	if got := len(s.appendEntryArgs(nil, strings.Repeat("a", 64), rec)); got != entryArgs {
		t.Errorf("appendEntryArgs appended %d arguments, want entryArgs = %d", got, entryArgs)
	}
}
