package keycardotel_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"

	"github.com/keycard-go/keycard"
	keycardotel "github.com/keycard-go/keycard/contrib/otel"
	"github.com/keycard-go/keycard/store/memory"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Example instruments a Manager: each request's store calls become spans
// under the request's span, its session events become span events, and
// both are counted. Here the spans and metrics stay in memory; an
// application installs its exporters' providers instead, or sets them
// globally and passes a zero Config.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	tel, err := keycardotel.New(keycardotel.Config{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		panic(err)
	}
	m, err := keycard.New(keycard.Config{
		Store:   tel.Store(memory.New(memory.Config{})),
		OnEvent: tel.OnEvent,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		m.Login(r.Context(), keycard.FromContext(r.Context()), "alice")
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, keycard.FromContext(r.Context()).UserID())
	})
	// The request's span must be in the context the Manager's middleware
	// sees, so tracing goes outside it: otelhttp.NewHandler(m.Handler(mux),
	// "server") in an application; a minimal stand-in here.
	traced := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, span := tp.Tracer("server").Start(r.Context(), r.Method+" "+r.URL.Path,
				trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	ts := httptest.NewTLSServer(traced(m.Handler(mux)))
	defer ts.Close()

	client := ts.Client()
	client.Jar, _ = cookiejar.New(nil)
	for _, req := range [][2]string{{"POST", "/login"}, {"GET", "/me"}} {
		r, _ := http.NewRequest(req[0], ts.URL+req[1], nil)
		res, err := client.Do(r)
		if err != nil {
			panic(err)
		}
		res.Body.Close()
	}

	// Each request's span, its store calls and its events.
	for _, sp := range spans.Ended() {
		if !sp.Parent().IsValid() {
			fmt.Println(sp.Name())
			for _, child := range spans.Ended() {
				if child.Parent().SpanID() == sp.SpanContext().SpanID() {
					fmt.Println("  span", child.Name())
				}
			}
			for _, ev := range sp.Events() {
				fmt.Println("  event", ev.Name)
			}
		}
	}
	var (
		rm     metricdata.ResourceMetrics
		counts []string
	)
	reader.Collect(context.Background(), &rm)
	for _, sm := range rm.ScopeMetrics {
		for _, metric := range sm.Metrics {
			if sum, ok := metric.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range sum.DataPoints {
					kind, _ := dp.Attributes.Value("kind")
					reason, _ := dp.Attributes.Value("reason")
					if dp.Value > 0 {
						counts = append(counts, fmt.Sprintf("%s{kind=%s,reason=%s} %d",
							metric.Name, kind.AsString(), reason.AsString(), dp.Value))
					}
				}
			}
		}
	}
	slices.Sort(counts)
	for _, c := range counts {
		fmt.Println(c)
	}
	// Output:
	// POST /login
	//   span keycard.store.save
	//   event keycard.created
	//   event keycard.renewed
	// GET /me
	//   span keycard.store.load
	// keycard.events{kind=created,reason=none} 1
	// keycard.events{kind=renewed,reason=login} 1
}
