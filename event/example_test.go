package event_test

import (
	"fmt"

	"github.com/keycard-go/keycard/event"
)

// An OnEvent hook that counts forged cookies apart from sessions that
// merely expired.
func Example() {
	var forged, expired int
	onEvent := func(ev event.Event) {
		switch {
		case ev.Kind == event.Rejected && ev.Reason == event.ReasonBadMAC:
			forged++
		case ev.Kind == event.Expired:
			expired++
		}
	}
	onEvent(event.Event{Kind: event.Rejected, Reason: event.ReasonBadMAC})
	onEvent(event.Event{Kind: event.Expired, Reason: event.ReasonIdle})
	onEvent(event.Event{Kind: event.Rejected, Reason: event.ReasonUnknown})
	fmt.Println(forged, expired)
	// Output: 1 1
}
