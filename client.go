package keycard

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxUserAgent bounds the user agent kept in a session record.
const maxUserAgent = 256

// peerAddr returns the address of the connection's peer.
func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func (m *Manager) trusted(a netip.Addr) bool {
	for _, p := range m.cfg.TrustedProxies {
		if a.IsValid() && p.Contains(a) {
			return true
		}
	}
	return false
}

// fromTrustedProxy reports whether the connection's peer is a trusted proxy.
func (m *Manager) fromTrustedProxy(r *http.Request) bool {
	return len(m.cfg.TrustedProxies) > 0 && m.trusted(peerAddr(r))
}

// ClientIP returns the client's address: the connection's peer, or, when
// the peer is a trusted proxy (Config.TrustedProxies), the rightmost address
// in X-Forwarded-For that is not itself a trusted proxy. Addresses a client
// writes into X-Forwarded-For are never believed past an untrusted hop.
func (m *Manager) ClientIP(r *http.Request) netip.Addr {
	if r == nil {
		return netip.Addr{}
	}
	addr := peerAddr(r)
	if !m.trusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr
		}
		addr = a.Unmap()
		if !m.trusted(addr) {
			return addr
		}
	}
	return addr
}

// lastCSV returns the last element of a comma-separated header value.
func lastCSV(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		return v[i+1:]
	}
	return v
}

// userAgent returns the request's user agent, truncated for storage.
func userAgent(r *http.Request) string {
	if r == nil {
		return ""
	}
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return strings.ToValidUTF8(ua, "")
}

// addrString formats a, or returns "" for the zero Addr.
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
