package redis_test

import (
	"slices"
	"testing"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/internal/redistest"
)

// checkReadCommand checks that a load sends rueidis's own GET of the key,
// read-only as rueidis marks it (so that it is retried after a network
// error), and, when the client routes by slot, with the key's slot.
func checkReadCommand(t *testing.T, client rueidis.Client, routesBySlot bool) {
	t.Helper()
	const key = "keycard:s:2L8vQ1m4bN6pX0rT3wY7zA9cE5gJ1kM8nP2qS4uV6xZ"
	got := redis.ReadCommand(client, key)
	want := client.B().Get().Key(key).Build()
	if !slices.Equal(got.Commands(), want.Commands()) {
		t.Errorf("a load sends %q, want %q", got.Commands(), want.Commands())
	}
	if !got.IsReadOnly() || got.IsReadOnly() != want.IsReadOnly() || got.IsRetryable() != want.IsRetryable() {
		t.Errorf("read-only %v, retryable %v; rueidis's GET: %v, %v",
			got.IsReadOnly(), got.IsRetryable(), want.IsReadOnly(), want.IsRetryable())
	}
	if routesBySlot && got.Slot() != want.Slot() {
		t.Errorf("a cluster client's load has slot %d, want the key's, %d", got.Slot(), want.Slot())
	}
}

func TestALoadIsOneGETOfTheKey(t *testing.T) {
	t.Parallel()
	target := redistest.Shared(t)
	checkReadCommand(t, redistest.Client(t, target.Addrs), false)
}
