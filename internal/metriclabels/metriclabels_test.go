package metriclabels_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/internal/metriclabels"
	"github.com/keycard-go/keycard/store"
)

// TestEmittedPairsKeepTheirNames checks that every pair created at zero is
// a pair Of can produce: a kind or reason missing from the known sets
// would start a series at zero that no event ever counts.
func TestEmittedPairsKeepTheirNames(t *testing.T) {
	t.Parallel()
	seen := map[metriclabels.Pair]bool{}
	for _, p := range metriclabels.Emitted() {
		if seen[p] {
			t.Errorf("%v is listed twice", p)
		}
		seen[p] = true
		ev := event.Event{Kind: event.Kind(p.Kind)}
		if p.Reason != metriclabels.None {
			ev.Reason = event.Reason(p.Reason)
		}
		if kind, reason := metriclabels.Of(ev); kind != p.Kind || reason != p.Reason {
			t.Errorf("Of(%v): got %s/%s, want %s/%s", p, kind, reason, p.Kind, p.Reason)
		}
	}
}

func TestUnknownValuesBecomeOther(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name         string
		ev           event.Event
		kind, reason string
	}{
		{"no reason", event.Event{Kind: event.Created}, "created", metriclabels.None},
		{"unknown kind", event.Event{Kind: "user-42", Reason: event.ReasonLogin}, metriclabels.Other, "login"},
		{"unknown reason", event.Event{Kind: event.Rejected, Reason: "session 0123456789abcdef"}, "rejected", metriclabels.Other},
	} {
		if kind, reason := metriclabels.Of(c.ev); kind != c.kind || reason != c.reason {
			t.Errorf("%s: got %s/%s, want %s/%s", c.name, kind, reason, c.kind, c.reason)
		}
	}
}

func TestResultOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, metriclabels.ResultOK},
		{fmt.Errorf("redis store: load: %w", store.ErrNotFound), metriclabels.ResultNotFound},
		{store.ErrConflict, metriclabels.ResultConflict},
		{context.DeadlineExceeded, metriclabels.ResultError},
	} {
		if got := metriclabels.ResultOf(c.err); got != c.want {
			t.Errorf("ResultOf(%v): got %s, want %s", c.err, got, c.want)
		}
	}
}
