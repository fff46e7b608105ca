package reliability_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxy is a fault-injecting TCP proxy on 127.0.0.1 in front of one
// server. While healthy it forwards bytes both ways. It can be told to
// drop every live connection at once (DropAll: both ends are reset, as
// when a server, a NAT or a load balancer loses its state), to stall
// (Stall: bytes stop moving both ways and new connections are accepted
// but hang, as in a network partition; Heal lets the held bytes through,
// as TCP retransmission would), or to delay every chunk it forwards
// (SetDelay).
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	healed chan struct{} // closed while healthy; open while stalled
	closed bool
	done   chan struct{} // closed by Close

	delay    atomic.Int64 // a time.Duration added before forwarding each chunk
	accepted atomic.Int64 // connections accepted so far
	wg       sync.WaitGroup
}

// newProxy starts a proxy to target on a free loopback port and closes it
// when tb ends.
func newProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxy: %v", err)
	}
	healed := make(chan struct{})
	close(healed)
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, healed: healed, done: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.Close)
	return p
}

// Addr is the address clients dial instead of the server's.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve forwards one client connection.
func (p *proxy) serve(client net.Conn) {
	defer p.wg.Done()
	if !p.track(client) {
		return
	}
	p.waitHealed()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil || !p.track(server) {
		p.reset(client)
		if server != nil {
			server.Close()
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go p.pump(&wg, server, client)
	go p.pump(&wg, client, server)
	wg.Wait()
	p.untrack(client)
	p.untrack(server)
}

// pump copies src to dst until either fails, then closes both.
func (p *proxy) pump(wg *sync.WaitGroup, dst, src net.Conn) {
	defer wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.waitHealed()
			if d := time.Duration(p.delay.Load()); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-p.done:
					t.Stop()
				}
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if err == io.EOF {
				// Pass the half-close on, then let the other pump finish.
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
					return
				}
			}
			p.reset(dst)
			p.reset(src)
			return
		}
	}
}

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// reset closes c with a TCP reset rather than an orderly close.
func (p *proxy) reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

func (p *proxy) waitHealed() {
	p.mu.Lock()
	ch := p.healed
	p.mu.Unlock()
	<-ch
}

// DropAll resets every live connection, client side and server side, and
// returns how many client connections it dropped. The proxy keeps
// accepting new ones.
func (p *proxy) DropAll() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		p.reset(c)
	}
	n := len(p.conns) / 2
	clear(p.conns)
	return n
}

// Stall stops all traffic until Heal.
func (p *proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.healed:
		p.healed = make(chan struct{})
	default:
	}
}

// Heal lets traffic flow again, held bytes first.
func (p *proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.healed:
	default:
		close(p.healed)
	}
}

// SetDelay makes the proxy wait d before forwarding each chunk, in both
// directions.
func (p *proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Close stops the proxy, drops every connection and waits for its
// goroutines to end.
func (p *proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	p.Heal()
	p.ln.Close()
	p.DropAll()
	p.wg.Wait()
}
