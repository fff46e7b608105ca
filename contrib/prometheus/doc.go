// Package keycardprom exports a keycard.Manager's events and store timings
// as Prometheus metrics. It is its own Go module, so applications that do
// not use Prometheus never download the client library.
//
// For most applications: create one Metrics with New, set its OnEvent as
// the Manager's event hook, and wrap the Manager's store with Store.
//
//	metrics, err := keycardprom.New(prometheus.DefaultRegisterer, keycardprom.Config{})
//	...
//	m, err := keycard.New(keycard.Config{
//		Store:   metrics.Store(memory.New(memory.Config{})),
//		OnEvent: metrics.OnEvent,
//	})
//
// # Metrics
//
// keycard_events_total{kind, reason} counts every event the Manager and
// its companion packages (csrf, token, guard) emit: sessions created,
// renewed, destroyed, expired and rejected, conflicting saves retried,
// CSRF rejections, binding mismatches, failed-login limits reached and
// refresh-token reuse. Labels take only the fixed values Keycard defines
// (see package event); any other kind or
// reason is counted as "other", and an event without a reason as "none",
// so the number of series is bounded whatever a caller emits. Session
// hashes and user IDs are never labels. The series Keycard can emit start
// at zero, so rate() and increase() see the first event.
//
// keycard_store_duration_seconds{op, result} is a histogram of the time
// each store call took, by operation (load, save, delete, touch, and
// list_user, delete_user, sweep, scan, count_anonymous and save_batch for
// stores with those capabilities) and result (ok, not_found, conflict,
// unsupported, error). Most requests that use their session make one
// load, and a save or touch only when the session changed or its activity
// is due to be recorded; logins, logouts and conflict retries make a few
// calls more. A login or rotation that moves a stored session to a new ID
// is one save_batch where the store batches (memory, Redis), two saves
// where it does not; a save_batch the store cannot run in its
// configuration (Redis Cluster) is unsupported, not error, and is followed
// by the saves. Scan's time includes its callback's.
//
// # Capabilities
//
// Store's result has exactly the optional capabilities of the store it
// wraps (store.UserIndex, store.Sweeper, store.Scanner, store.Counter,
// store.Batcher, store.RecordLoader, store.NonBlocking, io.Closer), so a
// wrapped store works as it would unwrapped: device lists and
// MaxSessionsPerUser need the index, Visitors.Max the counter, a
// one-round-trip renewal the batcher, a load into the session's own
// record the record loader (timed as a load). NeverBlocks reports the
// wrapped store's answer, so a memory store's calls are still not
// bounded with a timer each. Close closes the wrapped store and is not
// timed.
//
// # Logs
//
// The Manager logs every event itself, with keycard.Config.Logger,
// whatever its OnEvent hook does: counting events here changes no log
// line. To send events to a further hook, call it from a function of your
// own:
//
//	OnEvent: func(ev event.Event) { metrics.OnEvent(ev); audit(ev) },
//
// # Several Managers
//
// The collectors are registered once per registry. To measure several
// Managers in one process, give each its own Metrics over a registerer
// that adds a label naming it (every one of them, since one metric name
// must have the same labels throughout a registry):
//
//	label := func(name string) prometheus.Registerer {
//		return prometheus.WrapRegistererWith(prometheus.Labels{"manager": name}, prometheus.DefaultRegisterer)
//	}
//	webMetrics, err := keycardprom.New(label("web"), keycardprom.Config{})
//	...
//	adminMetrics, err := keycardprom.New(label("admin"), keycardprom.Config{})
//
// The module's README lists PromQL queries for a dashboard and alerts.
package keycardprom
