package memory

import (
	"log/slog"
	"sync"
	"time"
)

// warnEvery is the least time between two warnings of one kind.
const warnEvery = 10 * time.Second

// warner logs the store's warnings within a flood budget: at most one line
// per message every warnEvery, saying how many times it happened since the
// last line, so that a flood of anonymous sessions cannot flood the log.
type warner struct {
	log     *slog.Logger
	mu      sync.Mutex
	last    map[string]time.Time
	pending map[string]int
}

func (w *warner) warn(msg string, now time.Time) {
	w.mu.Lock()
	if w.last == nil {
		w.last, w.pending = make(map[string]time.Time), make(map[string]int)
	}
	w.pending[msg]++
	last, seen := w.last[msg]
	if seen && now.Sub(last) < warnEvery {
		w.mu.Unlock()
		return
	}
	n := w.pending[msg]
	w.last[msg], w.pending[msg] = now, 0
	w.mu.Unlock()
	w.log.Warn("memory store: "+msg, "count", n)
}
