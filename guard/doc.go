// Package guard limits password guessing without letting anyone lock a
// user out. Ask a Limiter before checking a password, and tell it how the
// check went; it counts failed logins per account and client network, and
// the application never builds a key:
//
//	lim := guard.New(guard.Config{Manager: m})
//	...
//	wait, err := lim.Check(ctx, name, r)
//	if err != nil || wait > 0 { /* 429 Too Many Requests, Retry-After: wait */ }
//	if !passwordOK {
//		lim.Fail(ctx, name, r)
//		...
//	}
//	lim.Succeed(ctx, name, r)
//
// # What is counted, and what is refused
//
// A client is known by its network: the /32 of an IPv4 address and the /64
// of an IPv6 one (a household or a small site gets a /64 and can change
// addresses within it at will), an IPv4-mapped IPv6 address counting as the
// IPv4 address. The address is keycard.Manager.ClientIP's, which believes
// X-Forwarded-For only from Config.TrustedProxies. Three counts are kept,
// each over a window (Config.Window, 15 minutes) from its first failure:
//
//   - per account and network: past Config.Limit failures (5), that
//     network's attempts for that account are refused until the window
//     ends, the right password included;
//   - per network: past Config.NetworkLimit failures (20), for any
//     accounts, every attempt from that network is refused;
//   - per account: past Config.AccountLimit failures (10) from all
//     networks together, every attempt for the account is slowed by
//     Config.Delay (1 second), and never refused.
//
// So an attacker guessing one user's password from many networks slows
// that user's logins but cannot stop them: a network that has not itself
// failed for the account, or failed too often overall, is never refused,
// and the right password from it works. An account-wide lockout, which
// anyone could trigger for anyone, is exactly what this package does not
// do. The account-wide delay is the price of the per-network budget, which
// an attacker with many networks multiplies: it slows a guesser who waits
// for each answer, and makes one who does not hold a connection per
// guess, while the per-network limits bound how many guesses each of the
// attacker's networks gets.
//
// Refused attempts are not counted, and Succeed clears only the count of
// the account on the network it succeeded from: the network's own count
// stays, so an attacker cannot clear it by signing in to an account of
// their own, and the account's stays, so its owner signing in does not
// give a guesser a fresh budget.
//
// Each count that reaches its limit is reported once per window as an
// EventLimit through the Manager (Config.Manager), with its scope
// (ScopeClient, ScopeNetwork or ScopeAccount) and count. Events and store
// keys never carry an account name, a password or a bare hash of either.
//
// # Where counts live
//
// Counts live in a keycard store (Config.Store): the default in-memory
// store limits one instance, and a shared store (Redis, SQL) makes the
// limits hold across instances. Each count is a record under "guard:" and
// a keyed hash (HMAC-SHA-256) of the account and network, under a key the
// Manager derives from its Config.Keys (keycard.Manager.DeriveKeys), so
// the store holds no account name and a dictionary of names cannot find
// one; instances sharing a store must share their Manager's Keys, and
// counts start over when the newest key changes. Without a Manager the key
// is random per process. Updates use compare-and-set, so concurrent
// failures are all counted.
//
// Keep counts out of the session store: they are records without a user,
// which keycard's admin commands and a store's bound on anonymous records
// would take for anonymous sessions.
package guard
