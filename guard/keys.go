package guard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
)

// keyPrefix starts every store key of a Limiter. A session's store key is
// 64 hex digits with no prefix, so tools that scan a store shared with
// sessions can tell the two apart (keycard's admin commands skip keys that
// are not session hashes).
const keyPrefix = "guard:"

// keyPurpose names the Manager-derived key that keys the counts.
const keyPurpose = "keycard/guard v2"

// countKeys are the store keys of the three counts of one attempt, and the
// client network they were computed for.
type countKeys struct {
	client, network, account string
	prefix                   string // the client network, as "192.0.2.7/32"
}

// keysFor returns the store keys of the counts of a login for account from
// the client of r.
func (l *Limiter) keysFor(account string, r *http.Request) countKeys {
	prefix := l.network(r)
	return countKeys{
		client:  l.storeKey('c', account, prefix),
		network: l.storeKey('n', "", prefix),
		account: l.storeKey('a', account, ""),
		prefix:  prefix,
	}
}

// storeKey returns the store key of the count of scope for account and
// network: a keyed hash, so that neither the store nor a log line holds
// anything a dictionary of names or addresses could reverse. The fields
// are length-prefixed, so no two (account, network) pairs share a key.
func (l *Limiter) storeKey(scope byte, account, network string) string {
	msg := []byte{scope}
	for _, f := range []string{account, network} {
		msg = binary.BigEndian.AppendUint64(msg, uint64(len(f)))
		msg = append(msg, f...)
	}
	mac := hmac.New(sha256.New, l.key)
	mac.Write(msg)
	return keyPrefix + hex.EncodeToString(mac.Sum(nil))
}

// network returns the client network of r: the /32 of an IPv4 address, the
// /64 of an IPv6 one, an IPv4-mapped address counting as IPv4. A request
// without a parsable client address (nil, or a RemoteAddr that is not an
// IP address) is in the network "unknown", shared by all such requests.
func (l *Limiter) network(r *http.Request) string {
	var a netip.Addr
	switch {
	case r == nil:
	case l.cfg.Manager != nil:
		a = l.cfg.Manager.ClientIP(r)
	default:
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		a, _ = netip.ParseAddr(host)
	}
	return clientNetwork(a)
}

// clientNetwork returns the network of a, as a prefix string, or
// "unknown".
func clientNetwork(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	a = a.Unmap().WithZone("")
	bits := 64
	if a.Is4() {
		bits = 32
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return "unknown"
	}
	return p.String()
}
