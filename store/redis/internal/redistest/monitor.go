package redistest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// Monitor reads a server's MONITOR stream, which shows every command the
// server runs: those sent by clients, and, marked as coming from "lua",
// those that scripts run.
type Monitor struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	seq  int
}

// StartMonitor opens a MONITOR connection to addr, closed when tb ends.
func StartMonitor(tb testing.TB, addr string) *Monitor {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	m := &Monitor{addr: addr, conn: conn, r: bufio.NewReader(conn)}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("*1\r\n$7\r\nMONITOR\r\n")); err != nil {
		tb.Fatal(err)
	}
	if line, err := m.r.ReadString('\n'); err != nil || line != "+OK\r\n" {
		tb.Fatalf("MONITOR: got %q, %v", line, err)
	}
	return m
}

// Next returns the commands that clients sent since the previous call (or
// since the monitor started), by name in lower case, and how many commands
// scripts ran meanwhile. It sends an ECHO over a connection of its own to
// mark where it stops, and leaves that and INFO commands out.
func (m *Monitor) Next(tb testing.TB) (client []string, scripted int) {
	tb.Helper()
	m.seq++
	marker := fmt.Sprintf("redistest-marker-%d", m.seq)
	if _, err := Command(m.addr, "ECHO", marker); err != nil {
		tb.Fatal(err)
	}
	m.conn.SetDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := m.r.ReadString('\n')
		if err != nil {
			tb.Fatalf("reading MONITOR: %v", err)
		}
		// +1700000000.123456 [0 127.0.0.1:5000] "GET" "key"
		_, rest, ok := strings.Cut(line, "] \"")
		if !ok {
			continue
		}
		name := strings.ToLower(rest[:strings.IndexByte(rest, '"')])
		switch {
		case strings.Contains(line, "[0 lua]"):
			scripted++
		case name == "echo" && strings.Contains(line, marker):
			return client, scripted
		case name != "echo" && name != "info":
			client = append(client, name)
		}
	}
}
