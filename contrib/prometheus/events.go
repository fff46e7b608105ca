package keycardprom

import (
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/internal/metriclabels"
)

// OnEvent counts ev in keycard_events_total, under the bounded kind and
// reason label values the package doc describes. Install it as
// keycard.Config.OnEvent; the Manager logs the event itself.
func (m *Metrics) OnEvent(ev event.Event) {
	kind, reason := metriclabels.Of(ev)
	m.events.WithLabelValues(kind, reason).Inc()
}
