package guard

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
)

// EventLimit is the kind of the Event a Limiter emits when a count
// reaches its limit, with ReasonLimit.
const EventLimit event.Kind = "login-failures"

// ReasonLimit is the reason of the EventLimit a Limiter emits when a count
// reaches its limit. The event's Attrs carry the count's scope (ScopeClient,
// ScopeNetwork or ScopeAccount), the failures, the client network for the
// first two, and a keyed hash of the count's key; never an account name.
const ReasonLimit event.Reason = "limit-reached"

// Scopes of a count, in the "scope" attribute of an EventLimit.
const (
	// ScopeClient counts one account's failures from one client network
	// (Config.Limit): that network is refused for that account.
	ScopeClient = "client"
	// ScopeNetwork counts one client network's failures for every
	// account (Config.NetworkLimit): the network is refused.
	ScopeNetwork = "network"
	// ScopeAccount counts one account's failures from every network
	// (Config.AccountLimit): its attempts are slowed, never refused.
	ScopeAccount = "account"
)

// Defaults used by New for zero Config fields.
const (
	DefaultLimit        = 5
	DefaultNetworkLimit = 20
	DefaultAccountLimit = 10
	DefaultDelay        = time.Second
	DefaultWindow       = 15 * time.Minute
)

// Config configures a Limiter. The zero Config is ready for use: 5
// failures per account and client network, 20 per network, a 1-second
// delay for an account past 10 failures from anywhere, in 15-minute
// windows, counted in memory.
type Config struct {
	// Limit is how many failed logins one client network may have for
	// one account in a window; its next attempts for that account are
	// refused until the window ends. The default is 5.
	Limit int

	// NetworkLimit is how many failed logins one client network may have
	// in a window, for all accounts together; its next attempts, for any
	// account, are refused until the window ends. The default is 20.
	NetworkLimit int

	// AccountLimit is how many failed logins one account may have in a
	// window from all networks together before Check slows every attempt
	// for it by Delay. It never refuses an attempt. The default is 10.
	AccountLimit int

	// Delay is how long Check waits before answering for an account past
	// AccountLimit. The default is 1 second.
	Delay time.Duration

	// Window is how long failures count, from a count's first failure.
	// The default is 15 minutes.
	Window time.Duration

	// Store keeps the counts. The default is a new memory store.
	Store store.Store

	// Manager, if set, tells client addresses (Manager.ClientIP, which
	// honours its TrustedProxies), keys the counts with a key derived
	// from its Keys (so instances sharing Store must share Keys), and
	// receives every EventLimit. The default is nil: the address is the
	// connection's peer, the key random per process, and no event is
	// emitted.
	Manager *keycard.Manager

	// Now returns the current time. The default is time.Now.
	Now func() time.Time
}

// A Limiter counts failed logins per account and client network. It is
// safe for concurrent use.
type Limiter struct {
	cfg Config
	key []byte // keys the store keys of counts
}

// New returns a Limiter for cfg, with defaults filled in. It panics if a
// limit, Delay or Window is negative.
func New(cfg Config) *Limiter {
	if cfg.Limit < 0 || cfg.NetworkLimit < 0 || cfg.AccountLimit < 0 || cfg.Delay < 0 || cfg.Window < 0 {
		panic("guard: negative limit, Delay or Window")
	}
	if cfg.Limit == 0 {
		cfg.Limit = DefaultLimit
	}
	if cfg.NetworkLimit == 0 {
		cfg.NetworkLimit = DefaultNetworkLimit
	}
	if cfg.AccountLimit == 0 {
		cfg.AccountLimit = DefaultAccountLimit
	}
	if cfg.Delay == 0 {
		cfg.Delay = DefaultDelay
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Store == nil {
		cfg.Store = memory.New(memory.Config{Now: cfg.Now})
	}
	l := &Limiter{cfg: cfg}
	if cfg.Manager != nil {
		l.key = cfg.Manager.DeriveKeys(keyPurpose)[0]
	} else {
		l.key = make([]byte, 32)
		rand.Read(l.key)
	}
	return l
}

// Check reports how long a login for account from the client of r must
// wait before it may be tried: zero if it may be tried now, positive if
// the client's network has reached its limit for this account (Limit) or
// for all accounts (NetworkLimit); answer such an attempt with 429 Too Many
// Requests and Retry-After, without checking its password. When only the
// account has reached AccountLimit, Check waits Delay and then returns
// zero: the attempt goes ahead, slowed.
//
// account is the name the user typed, in the form the application looks
// users up by (trimmed and lowercased, say), so that spellings of one
// account share their counts. A store failure, or ctx ending during the
// delay, is returned as an error: treat it as "must wait" (fail closed).
func (l *Limiter) Check(ctx context.Context, account string, r *http.Request) (time.Duration, error) {
	k := l.keysFor(account, r)
	wait := time.Duration(0)
	for _, c := range []struct {
		key   string
		limit int
	}{{k.client, l.cfg.Limit}, {k.network, l.cfg.NetworkLimit}} {
		n, deadline, err := l.load(ctx, c.key)
		if err != nil {
			return 0, fmt.Errorf("guard: check: %w", err)
		}
		wait = max(wait, l.wait(n, c.limit, deadline))
	}
	if wait > 0 {
		return wait, nil
	}
	n, _, err := l.load(ctx, k.account)
	if err != nil {
		return 0, fmt.Errorf("guard: check: %w", err)
	}
	if n >= uint64(l.cfg.AccountLimit) {
		t := time.NewTimer(l.cfg.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, fmt.Errorf("guard: check: %w", context.Cause(ctx))
		}
	}
	return 0, nil
}

// Fail records a failed login for account from the client of r, and
// reports how long that client must now wait before its next attempt
// for account: zero while its network is under both of its limits.
func (l *Limiter) Fail(ctx context.Context, account string, r *http.Request) (time.Duration, error) {
	k := l.keysFor(account, r)
	wait := time.Duration(0)
	for _, c := range []struct {
		key, scope string
		limit      int
	}{{k.client, ScopeClient, l.cfg.Limit}, {k.network, ScopeNetwork, l.cfg.NetworkLimit}, {k.account, ScopeAccount, l.cfg.AccountLimit}} {
		n, deadline, err := l.add(ctx, c.key)
		if err != nil {
			return 0, fmt.Errorf("guard: fail: %w", err)
		}
		if n == uint64(c.limit) {
			l.report(r, c.scope, c.key, k.prefix, n)
		}
		if c.scope != ScopeAccount {
			wait = max(wait, l.wait(n, c.limit, deadline))
		}
	}
	return wait, nil
}

// Succeed records a successful login for account from the client of r: it
// forgets that network's failures for account. The network's failures for
// all accounts, and the account's from all networks, still count until
// their windows end.
func (l *Limiter) Succeed(ctx context.Context, account string, r *http.Request) error {
	if err := l.cfg.Store.Delete(ctx, l.keysFor(account, r).client); err != nil {
		return fmt.Errorf("guard: succeed: %w", err)
	}
	return nil
}

// wait returns how long a count of n with limit, whose window ends at
// deadline, must wait.
func (l *Limiter) wait(n uint64, limit int, deadline time.Time) time.Duration {
	if n < uint64(limit) {
		return 0
	}
	return max(0, deadline.Sub(l.cfg.Now()))
}

// report emits the EventLimit of a count that reached its limit.
func (l *Limiter) report(r *http.Request, scope, key, prefix string, n uint64) {
	if l.cfg.Manager == nil {
		return
	}
	attrs := []slog.Attr{slog.String("scope", scope), slog.Uint64("failures", n)}
	if scope != ScopeAccount {
		attrs = append(attrs, slog.String("network", prefix))
	}
	attrs = append(attrs, slog.String("key", key[len(keyPrefix):len(keyPrefix)+16]))
	l.cfg.Manager.Emit(event.Event{Kind: EventLimit, Reason: ReasonLimit, Request: r, Attrs: attrs})
}
