package keycardotel

import (
	"context"
	"log/slog"

	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/internal/metriclabels"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys of the span events OnEvent adds.
const (
	// AttrReason is the event's reason (event.Reason), absent when it
	// has none.
	AttrReason = attribute.Key("keycard.reason")
	// AttrSession names the event's session by the first 16 hex digits of
	// its hash, as Keycard's logs do; absent when the event names none.
	AttrSession = attribute.Key("keycard.session")
)

// sessionPrefixLen is how much of a session hash an event may show: what
// keycard.Manager.Emit leaves of it.
const sessionPrefixLen = 16

// OnEvent counts ev in the keycard.events counter and, when ev came with a
// request whose context carries a recording span, adds it to that span as
// an event. Install it as keycard.Config.OnEvent (the Manager logs the
// event itself), or call it from a hook of your own that does more.
//
// The span event is named "keycard." plus ev.Kind ("keycard.created",
// "keycard.csrf-rejected", "keycard.refresh-reuse") and happens at ev.Time.
// Its attributes are AttrReason, AttrSession, and ev.Attrs, each under
// "keycard." plus its key (a refresh family's ID, a failed-login count's
// scope). It carries neither ev.UserID nor ev.Err's message: traces are
// often sampled, kept and shown under other rules than logs, and the
// Manager's log line for the same event, written with the request's
// context, has both. An event without a request (Manager.Revoke,
// Manager.RevokeUser and other calls made outside a request) has no span
// to go to: it is counted only.
func (t *Telemetry) OnEvent(ev event.Event) {
	ctx := context.Background()
	if ev.Request != nil {
		ctx = ev.Request.Context()
	}
	kind, reason := metriclabels.Of(ev)
	t.events.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", kind), attribute.String("reason", reason)))
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 2+len(ev.Attrs))
	if ev.Reason != "" {
		attrs = append(attrs, AttrReason.String(string(ev.Reason)))
	}
	if s := ev.Session; s != "" {
		attrs = append(attrs, AttrSession.String(s[:min(len(s), sessionPrefixLen)]))
	}
	for _, a := range ev.Attrs {
		attrs = append(attrs, attr("keycard."+a.Key, a.Value.Resolve()))
	}
	opts := []trace.EventOption{trace.WithAttributes(attrs...)}
	if !ev.Time.IsZero() {
		opts = append(opts, trace.WithTimestamp(ev.Time))
	}
	span.AddEvent("keycard."+string(ev.Kind), opts...)
}

// attr converts a resolved slog value to an attribute of its kind.
func attr(key string, v slog.Value) attribute.KeyValue {
	switch v.Kind() {
	case slog.KindBool:
		return attribute.Bool(key, v.Bool())
	case slog.KindInt64:
		return attribute.Int64(key, v.Int64())
	case slog.KindUint64:
		if u := v.Uint64(); u <= 1<<63-1 {
			return attribute.Int64(key, int64(u))
		}
	case slog.KindFloat64:
		return attribute.Float64(key, v.Float64())
	}
	return attribute.String(key, v.String())
}
