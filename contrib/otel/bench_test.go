package keycardotel_test

import (
	"context"
	"strings"
	"testing"
	"time"

	keycardotel "github.com/keycard-go/keycard/contrib/otel"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BenchmarkLoad compares a load from the memory store bare, through the
// wrapper outside a trace (timed only), and inside a sampled trace (a
// span recorded, then dropped: no exporter).
func BenchmarkLoad(b *testing.B) {
	s := newSDK(b)
	s.tp = sdktrace.NewTracerProvider()
	tel, err := keycardotel.New(keycardotel.Config{TracerProvider: s.tp,
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))})
	if err != nil {
		b.Fatal(err)
	}
	s.tel = tel
	mem := memory.New(memory.Config{})
	key := strings.Repeat("f", 64)
	now := time.Now()
	mem.Save(context.Background(), key, &store.Record{Created: now, LastSeen: now,
		Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)})
	wrapped := s.tel.Store(mem)
	ctx, span := s.tp.Tracer("bench").Start(context.Background(), "request")
	defer span.End()
	for _, c := range []struct {
		name string
		st   store.Store
		ctx  context.Context
	}{
		{"bare", mem, context.Background()},
		{"untraced", wrapped, context.Background()},
		{"traced", wrapped, ctx},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.st.Load(c.ctx, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
