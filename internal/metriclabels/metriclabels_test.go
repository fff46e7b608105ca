package metriclabels_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

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
		{fmt.Errorf("redis store: save batch: %w", store.ErrUnsupported), metriclabels.ResultUnsupported},
		{context.DeadlineExceeded, metriclabels.ResultError},
	} {
		if got := metriclabels.ResultOf(c.err); got != c.want {
			t.Errorf("ResultOf(%v): got %s, want %s", c.err, got, c.want)
		}
	}
}

// TestOpsNameEveryStoreCall checks that Ops holds one value per method of
// store.Store and of each optional capability whose calls a metrics
// module times, the method's name in snake case, and no other: a
// capability added to the store package without its operation here
// fails, so a wrapper cannot record a value outside the bounded set.
func TestOpsNameEveryStoreCall(t *testing.T) {
	t.Parallel()
	var want []string
	for _, iface := range []reflect.Type{
		reflect.TypeFor[store.Store](), reflect.TypeFor[store.UserIndex](), reflect.TypeFor[store.Sweeper](),
		reflect.TypeFor[store.Scanner](), reflect.TypeFor[store.Counter](), reflect.TypeFor[store.Batcher](),
	} {
		for i := range iface.NumMethod() {
			want = append(want, snake(iface.Method(i).Name))
		}
	}
	got := metriclabels.Ops()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Ops: got %v, want %v", got, want)
	}
	got[0] = "changed"
	if metriclabels.Ops()[0] == "changed" {
		t.Error("Ops returns its own slice: a caller can change the set")
	}
	results := metriclabels.Results()
	for _, err := range []error{nil, store.ErrNotFound, store.ErrConflict, store.ErrUnsupported, context.Canceled} {
		if r := metriclabels.ResultOf(err); !slices.Contains(results, r) {
			t.Errorf("ResultOf(%v) = %s, not among Results %v", err, r, results)
		}
	}
}

// snake returns a method name in snake case: "ListUser" is "list_user".
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
