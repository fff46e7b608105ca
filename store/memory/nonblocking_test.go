package memory_test

import (
	"testing"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

func TestStoreNeverBlocks(t *testing.T) {
	var s store.Store = memory.New(memory.Config{})
	if nb, ok := s.(store.NonBlocking); !ok || !nb.NeverBlocks() {
		t.Error("the memory store does not report that it never blocks")
	}
}
