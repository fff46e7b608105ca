package keycard

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/keycard-go/keycard/event"
)

// hashPrefixLen is how much of a session hash events and logs show.
const hashPrefixLen = 16

// Emit logs ev and passes it to Config.OnEvent, after shortening
// ev.Session to a hash prefix and setting ev.Time. Packages
// layered on Keycard, such as csrf, report through it, so an application
// sees one stream of events. Never put a raw ID or token in an event.Event.
func (m *Manager) Emit(ev event.Event) { m.emit(ev) }

// emit completes ev, logs it and hands it to the event hook.
func (m *Manager) emit(ev event.Event) {
	if len(ev.Session) > hashPrefixLen {
		ev.Session = ev.Session[:hashPrefixLen]
	}
	ev.Time = time.Now().UTC()
	m.logEvent(ev)
	if m.cfg.OnEvent != nil {
		m.cfg.OnEvent(ev)
	}
}

// logEvent logs ev to Config.Logger; Config.Logger's doc says at which
// levels.
func (m *Manager) logEvent(ev event.Event) {
	level := slog.LevelWarn
	switch {
	case ev.Kind == event.Rejected && ev.Reason == event.ReasonUnknown:
		level = slog.LevelInfo
	case ev.Kind == event.Created, ev.Kind == event.Renewed, ev.Kind == event.Destroyed, ev.Kind == event.Expired, ev.Kind == event.Conflict:
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if ev.Request != nil {
		ctx = ev.Request.Context()
	}
	if !m.cfg.Logger.Enabled(ctx, level) {
		return
	}
	var suppressed int
	if level >= slog.LevelWarn {
		// A flood of forged cookies must not become a flood of log lines.
		var ok bool
		if ok, suppressed = m.warnings.allow(ev.Kind, ev.Reason, time.Now()); !ok {
			return
		}
	}
	attrs := []slog.Attr{slog.String("event", string(ev.Kind))}
	if ev.Reason != "" {
		attrs = append(attrs, slog.String("reason", string(ev.Reason)))
	}
	if ev.Session != "" {
		attrs = append(attrs, slog.String("session", ev.Session))
	}
	if ev.UserID != "" {
		attrs = append(attrs, slog.String("user", ev.UserID))
	}
	if ev.Request != nil {
		attrs = append(attrs, slog.String("ip", addrString(m.ClientIP(ev.Request))),
			slog.String("ua", userAgent(ev.Request)))
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.String("err", ev.Err.Error()))
	}
	attrs = append(attrs, ev.Attrs...)
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed_before", suppressed))
	}
	m.cfg.Logger.LogAttrs(ctx, level, "keycard: session "+string(ev.Kind), attrs...)
}

// logBudget rate-limits the default hook's warnings, per kind and reason,
// so that a flood of one refusal (forged cookies) neither floods the log
// nor hides the others: a burst of warnBurst, then warnRate per second.
// Warnings over budget are counted, and the next one logged says how many
// were dropped.
type logBudget struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens     float64
	last       time.Time
	suppressed int
}

const (
	warnRate  = 10
	warnBurst = 50
	// maxBuckets bounds the kinds and reasons tracked; any beyond share one.
	maxBuckets = 64
)

// allow reports whether a warning about kind and reason may be logged now,
// and how many like it were suppressed since the last one that was.
func (b *logBudget) allow(kind event.Kind, reason event.Reason, now time.Time) (bool, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buckets == nil {
		b.buckets = make(map[string]*bucket)
	}
	key := string(kind) + "/" + string(reason)
	k, ok := b.buckets[key]
	if !ok {
		if len(b.buckets) >= maxBuckets {
			key = "other"
		}
		if k, ok = b.buckets[key]; !ok {
			k = &bucket{tokens: warnBurst, last: now}
			b.buckets[key] = k
		}
	}
	k.tokens = min(warnBurst, k.tokens+now.Sub(k.last).Seconds()*warnRate)
	k.last = now
	if k.tokens < 1 {
		k.suppressed++
		return false, 0
	}
	k.tokens--
	n := k.suppressed
	k.suppressed = 0
	return true, n
}
