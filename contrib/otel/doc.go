// Package keycardotel traces and measures a keycard.Manager with
// OpenTelemetry: each store call is a span under the request's span, each
// session event a span event on it, and both are counted in metrics
// equivalent to package keycardprom's. It is its own Go module, so
// applications that do not use OpenTelemetry never download it.
//
// For most applications: create one Telemetry with New, wrap the
// Manager's store with Store, set its OnEvent as the Manager's event
// hook, and trace requests outside the Manager's middleware, so that the
// request's span is in the context the Manager sees:
//
//	tel, err := keycardotel.New(keycardotel.Config{}) // the global providers
//	...
//	m, err := keycard.New(keycard.Config{
//		Store:   tel.Store(redisStore),
//		OnEvent: tel.OnEvent,
//	})
//	...
//	http.ListenAndServe(addr, otelhttp.NewHandler(m.Handler(mux), "server"))
//
// # Spans
//
// Each store call made with a context that carries a span, as every call
// of a traced request does, is a child span named "keycard.store." plus
// the operation: load, save, delete, touch, and list_user, delete_user,
// sweep, scan, count_anonymous and save_batch for stores with those
// capabilities. Its attributes name the store (AttrStoreName), the result
// (AttrStoreResult: ok, not_found, conflict, unsupported or error), how
// many records a list, delete_user, sweep, scan or count_anonymous
// handled or a save_batch was given (AttrStoreCount), and for a failure
// its class
// (AttrErrorType: timeout, canceled, closed, a Go error type), also the
// span status's description. A call whose context carries no span (a
// background sweep) makes none: it would be a trace of its own each
// time. A read request shows one load; a write a load and a save; a
// login that moves a stored session to a new ID a load and one save_batch
// where the store batches (memory, Redis), a load and two saves where it
// does not; a request whose session needs no store (no cookie, or a
// forged one) none. A save_batch the store cannot run in its
// configuration (Redis Cluster) has result unsupported and no error
// status, and the two saves follow it.
//
// The wrapped store keeps exactly the optional capabilities of the store
// it wraps (store.UserIndex, store.Sweeper, store.Scanner, store.Counter,
// store.Batcher, store.RecordLoader, io.Closer), so device lists,
// MaxSessionsPerUser, Visitors.Max, one-round-trip renewals and loads
// into the session's own record work as unwrapped (LoadRecord is a load
// span, as Load is); Close closes the wrapped store and is not traced.
//
// # Span events
//
// OnEvent adds each event that came with a request to that request's span
// (trace.SpanFromContext of the request's context): "keycard.created",
// "keycard.renewed", "keycard.destroyed", "keycard.expired",
// "keycard.rejected", "keycard.conflict-retried",
// "keycard.binding-mismatch", and the companion packages' kinds
// ("keycard.csrf-rejected", "keycard.login-failures",
// "keycard.refresh-reuse"), with the reason (AttrReason), the session's
// hash prefix (AttrSession) and the event's Attrs under "keycard.".
// Events without a request, those of Manager.Revoke, Manager.RevokeUser
// and other calls outside a request, carry no context to find a span in:
// they are counted only, and their store calls are spans when the caller's
// context carries one.
//
// # Compare-and-set retries
//
// A save that loses to a concurrent writer is a save span with result
// conflict; the Manager's next attempt is the next save span of the same
// request. When the winner was another instance, the Manager also reloads
// the record (a load span) after a short backoff and reports a
// "keycard.conflict-retried" event, which lands on the request's span and
// in the counter. So the retries of a request are its conflict save spans;
// a request that retried 2 times has 2 of them and, for writes of other
// instances, 2 retry events. Writers of one session within one instance
// take turns and do not conflict.
//
// # Metrics
//
// keycard.events (a counter, unit {event}) counts every event by kind and
// reason, and keycard.store.duration (a histogram in seconds, bucket
// boundaries DefaultBuckets) times every store call, traced or not, by op
// and result. The attributes take the same bounded values as keycardprom's
// labels (a kind or reason Keycard does not define is "other", a missing
// reason "none"), so an OpenTelemetry Prometheus exporter serves the same
// series as keycardprom, keycard_events_total and
// keycard_store_duration_seconds, and the queries in keycardprom's README
// work unchanged. The event pairs Keycard emits start at zero; a store
// operation's series appears with its first call.
//
// # What is never recorded
//
// No session ID, cookie or token value, store key (beyond the 16 hex
// digits of a hash prefix that Keycard's events and logs show), signing
// key, user ID, record or error message becomes a span name, attribute,
// event or metric attribute. User IDs and error messages stay in the
// Manager's log line for the same event: traces are often sampled, kept
// and shown under other rules than logs, and the Manager logs with the
// request's context, so a log handler that adds trace IDs links the two.
// TestNoSecretInTelemetry runs a login, writes, a conflict, a logout, a
// stale and a forged cookie, a CSRF refusal and a failed-login limit,
// and finds none of them in any span, event or data point.
//
// # Composing hooks
//
// keycard.Config.OnEvent takes one function. To feed another hook as
// well, such as keycardprom's or an audit log, call both from a function
// of your own:
//
//	OnEvent: func(ev event.Event) { tel.OnEvent(ev); metrics.OnEvent(ev); audit(ev) },
//
// The Manager logs every event itself (keycard.Config.Logger), whatever
// its hook does.
//
// # Store timeouts
//
// The wrapped store implements store.NonBlocking with NeverBlocks false,
// even over a memory store, which never blocks: ending a span may wait
// for a synchronous exporter (sdktrace.WithSyncer) or a full batch queue
// (sdktrace.WithBlocking), so the Manager keeps bounding store calls with
// keycard.Config.StoreTimeout. The bound costs a small context per call.
//
// One Telemetry may serve several Managers; their spans stay apart by
// request, and their counts add up.
package keycardotel
