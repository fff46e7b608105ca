// Package metriclabels holds the bounded label values that the metrics
// modules (contrib/prometheus, contrib/otel) share, so that both export
// the same series: event kinds and reasons (Of, Emitted) and store
// operations and results (the Op and Result constants, Ops, Results,
// ResultOf). The
// root package does not import it; its import path is under internal/ of
// the root module, which the contrib modules may import.
package metriclabels
