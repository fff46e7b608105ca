package keycardprom

import (
	"errors"
	"fmt"

	"github.com/keycard-go/keycard/internal/metriclabels"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultBuckets are the store latency histogram's upper bounds, in
// seconds: from 100 µs, a memory store's slowest calls, to 2.5 s, a
// network store in trouble.
var DefaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Config configures Metrics. The zero Config is ready to use.
type Config struct {
	// Buckets are the upper bounds, in seconds, of the store latency
	// histogram's buckets, in increasing order. The default is
	// DefaultBuckets.
	Buckets []float64
}

// Metrics records one Manager's events and store timings. Create it with
// New. It is safe for concurrent use.
type Metrics struct {
	events *prometheus.CounterVec
	store  *prometheus.HistogramVec
}

// New returns Metrics whose collectors are registered with reg (for the
// default registry, prometheus.DefaultRegisterer). It reports an error if
// reg is nil or refuses the collectors, for example because another
// Metrics is already registered with it; see the package doc for several
// Managers in one process.
func New(reg prometheus.Registerer, cfg Config) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("keycardprom: nil Registerer; pass prometheus.DefaultRegisterer for the default registry")
	}
	buckets := cfg.Buckets
	if len(buckets) == 0 {
		buckets = DefaultBuckets
	}
	for i := 1; i < len(buckets); i++ {
		if !(buckets[i-1] < buckets[i]) {
			return nil, fmt.Errorf("keycardprom: Buckets must increase, got %v", buckets)
		}
	}
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keycard_events_total",
			Help: "Keycard session events, by kind and reason.",
		}, []string{"kind", "reason"}),
		store: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "keycard_store_duration_seconds",
			Help:    "Time taken by Keycard session store calls, by operation and result.",
			Buckets: buckets,
		}, []string{"op", "result"}),
	}
	if err := reg.Register(m.events); err != nil {
		return nil, fmt.Errorf("keycardprom: register: %w", err)
	}
	if err := reg.Register(m.store); err != nil {
		reg.Unregister(m.events)
		return nil, fmt.Errorf("keycardprom: register: %w", err)
	}
	// Start the series Keycard can emit at zero, so that rate() and
	// increase() count their first event.
	for _, p := range metriclabels.Emitted() {
		m.events.WithLabelValues(p.Kind, p.Reason)
	}
	return m, nil
}
