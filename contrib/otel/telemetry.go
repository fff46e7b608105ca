package keycardotel

import (
	"context"
	"errors"
	"fmt"

	"github.com/keycard-go/keycard/internal/metriclabels"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the spans and metrics this
// package makes: the name of its tracer and its meter.
const ScopeName = "github.com/keycard-go/keycard/contrib/otel"

// DefaultBuckets are the store duration histogram's bucket boundaries, in
// seconds: from 100 µs, a memory store's slowest calls, to 2.5 s, a
// network store in trouble. They are keycardprom.DefaultBuckets.
var DefaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Config configures Telemetry. The zero Config is ready to use: it takes
// the global providers that the application installed with
// otel.SetTracerProvider and otel.SetMeterProvider.
type Config struct {
	// TracerProvider makes the store calls' spans. The default is
	// otel.GetTracerProvider().
	TracerProvider trace.TracerProvider

	// MeterProvider makes the event counter and the store duration
	// histogram. The default is otel.GetMeterProvider().
	MeterProvider metric.MeterProvider

	// Buckets are the bucket boundaries, in seconds and in increasing
	// order, that the store duration histogram advises its view to use.
	// The default is DefaultBuckets.
	Buckets []float64
}

// Telemetry traces and measures one Manager: its store calls (Store) and
// its events (OnEvent). Create it with New. It is safe for concurrent use.
type Telemetry struct {
	tracer trace.Tracer
	events metric.Int64Counter
	store  metric.Float64Histogram
	// measured holds the attribute sets of the store histogram, by
	// operation and result, made once so that recording allocates none.
	measured map[opResult][]metric.RecordOption
}

// opResult is one store operation and result label pair.
type opResult struct{ op, result string }

// New returns Telemetry whose tracer and meter come from cfg's providers.
// It reports an error if Buckets do not increase or a provider refuses an
// instrument.
func New(cfg Config) (*Telemetry, error) {
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	mp := cfg.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	buckets := cfg.Buckets
	if len(buckets) == 0 {
		buckets = DefaultBuckets
	}
	for i := 1; i < len(buckets); i++ {
		if !(buckets[i-1] < buckets[i]) {
			return nil, fmt.Errorf("keycardotel: Buckets must increase, got %v", buckets)
		}
	}
	meter := mp.Meter(ScopeName)
	t := &Telemetry{tracer: tp.Tracer(ScopeName), measured: make(map[opResult][]metric.RecordOption)}
	var err1, err2 error
	t.events, err1 = meter.Int64Counter("keycard.events",
		metric.WithDescription("Keycard session events, by kind and reason."),
		metric.WithUnit("{event}"))
	t.store, err2 = meter.Float64Histogram("keycard.store.duration",
		metric.WithDescription("Time taken by Keycard session store calls, by operation and result."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(buckets...))
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("keycardotel: instruments: %w", err)
	}
	for _, op := range metriclabels.Ops() {
		for _, result := range metriclabels.Results() {
			t.measured[opResult{op, result}] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(
				attribute.String("op", op), attribute.String("result", result)))}
		}
	}
	// Start the series Keycard can emit at zero, so that rate() and
	// increase() over a cumulative export count their first event.
	for _, p := range metriclabels.Emitted() {
		t.events.Add(context.Background(), 0, metric.WithAttributes(
			attribute.String("kind", p.Kind), attribute.String("reason", p.Reason)))
	}
	return t, nil
}
