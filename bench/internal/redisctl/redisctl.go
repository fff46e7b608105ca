// Package redisctl talks to Redis without a client library, for the
// benchmarks' bookkeeping: private servers, counters, cleanup, and counting
// the commands clients send.
package redisctl

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A Conn is a minimal RESP connection, enough to read a server's
// counters and clean up keys without a client library.
type Conn struct {
	c net.Conn
	r *bufio.Reader
}

// Dial connects to the Redis server at addr.
func Dial(addr string) (*Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &Conn{c: c, r: bufio.NewReader(c)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// Do sends one command and returns its reply: a string, an int64, nil, or
// a []any of those. A Redis error reply is returned as an error.
func (c *Conn) Do(args ...string) (any, error) {
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.c.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	return c.reply()
}

func (c *Conn) reply() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("redis: empty reply line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, errors.New("redis: " + line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := readFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = c.reply(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("redis: unexpected reply %q", line)
}

func readFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Info returns the fields of INFO section as a map.
func (c *Conn) Info(section string) (map[string]string, error) {
	v, err := c.Do("INFO", section)
	if err != nil {
		return nil, err
	}
	s, _ := v.(string)
	out := make(map[string]string)
	for _, line := range strings.Split(s, "\r\n") {
		if k, val, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			out[k] = val
		}
	}
	return out, nil
}

// UsedMemory returns the server's used_memory in bytes.
func (c *Conn) UsedMemory() (int64, error) {
	info, err := c.Info("memory")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(info["used_memory"], 10, 64)
}

// DeletePrefix deletes every key that starts with prefix and reports how
// many it deleted.
func (c *Conn) DeletePrefix(prefix string) (int, error) {
	cursor, n := "0", 0
	for {
		v, err := c.Do("SCAN", cursor, "MATCH", prefix+"*", "COUNT", "1000")
		if err != nil {
			return n, err
		}
		page, _ := v.([]any)
		if len(page) != 2 {
			return n, errors.New("redis: bad SCAN reply")
		}
		cursor, _ = page[0].(string)
		keys, _ := page[1].([]any)
		if len(keys) > 0 {
			args := []string{"UNLINK"}
			for _, k := range keys {
				args = append(args, k.(string))
			}
			if _, err := c.Do(args...); err != nil {
				return n, err
			}
			n += len(keys)
		}
		if cursor == "0" {
			return n, nil
		}
	}
}

// PerRequest reports whether a command is one that requests issue, as
// opposed to the commands a client sends once per connection (HELLO,
// CLIENT …, SELECT, AUTH), the counters' own INFO, and script loading.
func PerRequest(name string) bool {
	switch {
	case name == "info", name == "hello", name == "select", name == "auth", name == "script|load",
		strings.HasPrefix(name, "client"), strings.HasPrefix(name, "command"), strings.HasPrefix(name, "config"):
		return false
	}
	return true
}

// A Server is a private redis-server process on a free loopback port,
// with persistence off. Its counters see only the traffic of whoever
// started it.
type Server struct {
	Addr string
	cmd  *exec.Cmd
}

// Start starts a private redis-server, if the binary is on PATH.
func Start() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, err
	}
	var last error
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning",
			"--dir", os.TempDir())
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd}
		if last = s.wait(); last == nil {
			return s, nil
		}
		s.Stop()
	}
	return nil, last
}

func (s *Server) wait() error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := Dial(s.Addr)
		if err == nil {
			_, err = c.Do("PING")
			c.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer: %w", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server by its PID and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// A Monitor counts the commands that clients send to a Redis server, from
// its MONITOR stream. Commands that scripts run are not counted (INFO
// commandstats counts them too, which is why it is not used).
type Monitor struct {
	conn   *Conn
	ctl    *Conn
	done   chan struct{}
	marker string

	mu     sync.Mutex
	counts map[string]int64
	err    error
	marked bool // the marker was seen: every command before Stop is counted
}

// StartMonitor starts counting the commands sent to the server at addr.
func StartMonitor(addr string) (*Monitor, error) {
	conn, err := Dial(addr)
	if err != nil {
		return nil, err
	}
	ctl, err := Dial(addr)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if _, err := conn.Do("MONITOR"); err != nil {
		conn.Close()
		ctl.Close()
		return nil, err
	}
	m := &Monitor{
		conn: conn, ctl: ctl, done: make(chan struct{}),
		marker: "keycard-bench-monitor-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		counts: make(map[string]int64),
	}
	go m.read()
	return m, nil
}

func (m *Monitor) read() {
	defer close(m.done)
	for {
		m.conn.c.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := m.conn.r.ReadString('\n')
		if err != nil {
			m.mu.Lock()
			m.err = err
			m.mu.Unlock()
			return
		}
		// +1700000000.339417 [0 127.0.0.1:51024] "get" "key"
		_, rest, ok := strings.Cut(line, "[")
		if !ok {
			continue
		}
		src, rest, _ := strings.Cut(rest, "]")
		if strings.HasSuffix(src, " lua") {
			continue // run by a script
		}
		fields := strings.SplitN(strings.TrimSpace(rest), " ", 3)
		if len(fields) == 0 {
			continue
		}
		name := strings.ToLower(strings.Trim(fields[0], `"`))
		if name == "echo" && len(fields) > 1 && strings.Trim(fields[1], `"`) == m.marker {
			m.mu.Lock()
			m.marked = true
			m.mu.Unlock()
			return
		}
		m.mu.Lock()
		m.counts[name]++
		m.mu.Unlock()
	}
}

// Stop stops counting and returns the count of each command (lowercase
// names). It first sends a marker after every command issued so far, so
// all of them are counted.
func (m *Monitor) Stop() (map[string]int64, error) {
	defer m.conn.Close()
	defer m.ctl.Close()
	if _, err := m.ctl.Do("ECHO", m.marker); err != nil {
		return nil, err
	}
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		return nil, errors.New("redis monitor: marker not seen")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.marked {
		return nil, fmt.Errorf("redis monitor: %w", m.err)
	}
	out := make(map[string]int64, len(m.counts))
	for k, v := range m.counts {
		out[k] = v
	}
	return out, nil
}

// Writes reports whether a command writes.
func Writes(name string) bool {
	switch name {
	case "get", "mget", "ping", "zrange", "exists", "ttl", "pttl", "scan", "echo":
		return false
	}
	return true
}
