// Package redistest starts and reaches the Redis servers that the store's
// tests use: the shared server at KEYCARD_REDIS_ADDR (127.0.0.1:6379 by
// default), private redis-server processes whose counters no other test
// disturbs, and a six-node Redis Cluster. Every process it starts is
// stopped by PID when the test that started it ends, and every key prefix
// it hands out is deleted then.
package redistest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/store/storetest"
)

// AddrEnv names the environment variable that overrides the address of
// the shared Redis server.
const AddrEnv = "KEYCARD_REDIS_ADDR"

// Addr returns the shared Redis server's address.
func Addr() string {
	if a := os.Getenv(AddrEnv); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// Target is a Redis deployment the tests write to: a server or a cluster.
type Target struct {
	// Addrs are the addresses to give a client.
	Addrs []string
	// Cluster reports whether Addrs are the nodes of a Redis Cluster.
	Cluster bool

	admin rueidis.Client
}

// Shared returns the shared Redis server, or skips (fails under CI=true)
// when it cannot be reached.
func Shared(tb testing.TB) *Target {
	tb.Helper()
	addr := Addr()
	if _, err := Command(addr, "PING"); err != nil {
		storetest.Unavailable(tb, "Redis at "+addr+" (set "+AddrEnv+")", err)
	}
	return newTarget(tb, []string{addr}, false)
}

func newTarget(tb testing.TB, addrs []string, cluster bool) *Target {
	tb.Helper()
	admin := Client(tb, addrs)
	return &Target{Addrs: addrs, Cluster: cluster, admin: admin}
}

// Client returns a rueidis client for addrs, closed when tb ends.
func Client(tb testing.TB, addrs []string) rueidis.Client {
	tb.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: addrs, DisableCache: true})
	if err != nil {
		tb.Fatalf("redistest: connecting to %v: %v", addrs, err)
	}
	tb.Cleanup(c.Close)
	return c
}

// Prefix returns a key prefix no other test uses, and deletes every key
// under it when tb ends.
func (t *Target) Prefix(tb testing.TB) string {
	var b [8]byte
	rand.Read(b[:])
	prefix := "kctest:" + hex.EncodeToString(b[:]) + ":"
	tb.Cleanup(func() {
		if err := t.DeletePrefix(prefix); err != nil {
			tb.Errorf("redistest: deleting keys under %q: %v", prefix, err)
		}
	})
	return prefix
}

// Keys returns every key under prefix, from every node.
func (t *Target) Keys(prefix string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := make(map[string]bool)
	var keys []string
	for _, node := range t.admin.Nodes() {
		var cursor uint64
		for {
			e, err := node.Do(ctx, node.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
			if err != nil {
				return nil, err
			}
			for _, k := range e.Elements {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
			if cursor = e.Cursor; cursor == 0 {
				break
			}
		}
	}
	return keys, nil
}

// DeletePrefix deletes every key under prefix. The prefix must not
// contain glob characters.
func (t *Target) DeletePrefix(prefix string) error {
	keys, err := t.Keys(prefix)
	if err != nil || len(keys) == 0 {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = t.admin.B().Unlink().Key(k).Build()
	}
	for _, r := range t.admin.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}

// Admin returns a client for inspecting the target.
func (t *Target) Admin() rueidis.Client {
	return t.admin
}

// Command sends one command to the server at addr over a new connection
// and returns its reply as text: a status, an integer, a bulk string, or
// an array's elements joined by newlines. An error reply is an error.
func Command(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var req strings.Builder
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(req.String())); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(conn))
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("redistest: empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		parts := make([]string, 0, max(n, 0))
		for range n {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("redistest: unexpected reply %q", line)
}
