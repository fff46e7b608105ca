package memcached_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/keycard-go/keycard/store/storetest"
)

// addrVariable names the environment variable that overrides the test
// server's address.
const addrVariable = "KEYCARD_MEMCACHED_ADDR"

// serverName names the test server in skip and failure messages.
const serverName = "memcached at 127.0.0.1:11211 (or $" + addrVariable + ")"

// serverAddr returns the test server's address.
func serverAddr() string {
	if a := os.Getenv(addrVariable); a != "" {
		return a
	}
	return "127.0.0.1:11211"
}

// runPrefix starts every key this test binary writes; TestMain deletes
// them all at the end. It is unique per run, so parallel and repeated runs
// never see each other's keys.
var runPrefix = func() string {
	var b [6]byte
	rand.Read(b[:])
	return "kctest-" + hex.EncodeToString(b[:]) + "-"
}()

var prefixCount atomic.Int64

// newPrefix returns a key prefix no other store of this run uses.
func newPrefix() string {
	return fmt.Sprintf("%s%d:", runPrefix, prefixCount.Add(1))
}

// exampleAddr is the server address the examples use, as documentation
// should: a literal, not the test's variable.
const exampleAddr = "127.0.0.1:11211"

// TestMain deletes every key the tests wrote. When no server answers at
// the examples' address outside CI, it leaves the examples out (their
// output needs the server); the tests skip through storetest.Unavailable
// when the test server is unreachable.
func TestMain(m *testing.M) {
	flag.Parse()
	if err := ping(exampleAddr); err != nil && os.Getenv("CI") != "true" {
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
			f.Value.Set("^(Test|Benchmark)")
		}
	}
	code := m.Run()
	if ping(serverAddr()) == nil {
		if _, err := purge(runPrefix); err != nil {
			fmt.Fprintf(os.Stderr, "deleting the test keys under %q: %v\n", runPrefix, err)
		}
	}
	os.Exit(code)
}

// ping checks that a server answers at addr.
func ping(addr string) error {
	c := memcache.New(addr)
	defer c.Close()
	return c.Ping()
}

// newClient returns a client of its own for the test server, closed when
// the test ends, or skips (fails under CI) if the server is unreachable.
func newClient(tb testing.TB) *memcache.Client {
	tb.Helper()
	c := memcache.New(serverAddr())
	c.Timeout = 30 * time.Second // a guard: the race detector, 1 MiB values and a loaded machine
	c.MaxIdleConns = 64
	if err := c.Ping(); err != nil {
		c.Close()
		storetest.Unavailable(tb, serverName, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// command sends one command in memcached's text protocol on a connection
// of its own and returns the reply's lines up to the terminating "END".
// The tests use it for what gomemcache lacks: stats and key dumps.
func command(cmd string) ([]string, error) {
	conn, err := net.DialTimeout("tcp", serverAddr(), 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(conn, "%s\r\n", cmd); err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case line == "END":
			return lines, nil
		case strings.HasPrefix(line, "ERROR"), strings.HasPrefix(line, "CLIENT_ERROR"),
			strings.HasPrefix(line, "SERVER_ERROR"), strings.HasPrefix(line, "BUSY"):
			return nil, fmt.Errorf("%s: %s", cmd, line)
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s: connection closed before END", cmd)
}

// stats returns the server's counters from the stats command with the
// given argument ("" for the general counters, "slabs" for slab classes).
func stats(tb testing.TB, arg string) map[string]int64 {
	tb.Helper()
	lines, err := command(strings.TrimSpace("stats " + arg))
	if err != nil {
		tb.Fatal(err)
	}
	m := make(map[string]int64, len(lines))
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "STAT" {
			continue
		}
		if n, err := strconv.ParseInt(f[2], 10, 64); err == nil {
			m[f[1]] = n
		}
	}
	return m
}

// dumpedItem is one line of "lru_crawler metadump": an item's key and its
// absolute expiration (-1 for none).
type dumpedItem struct {
	key string
	exp int64
}

// dump lists the server's items whose keys start with prefix. The crawler
// runs one dump at a time and answers BUSY meanwhile, so dump waits its
// turn, for as long as a minute: parallel tests (and other runs sharing
// the server) dump too, and each dump is slow on a loaded machine.
func dump(prefix string) ([]dumpedItem, error) {
	var lines []string
	var err error
	for give := time.Now().Add(time.Minute); ; {
		lines, err = command("lru_crawler metadump all")
		if err == nil || !strings.Contains(err.Error(), "BUSY") || time.Now().After(give) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	var items []dumpedItem
	for _, line := range lines {
		var it dumpedItem
		for _, field := range strings.Fields(line) {
			name, value, _ := strings.Cut(field, "=")
			switch name {
			case "key":
				it.key, err = url.QueryUnescape(value)
			case "exp":
				it.exp, err = strconv.ParseInt(value, 10, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("metadump line %q: %v", line, err)
			}
		}
		if strings.HasPrefix(it.key, prefix) {
			items = append(items, it)
		}
	}
	return items, nil
}

// dumpKeys is dump's keys, failing the test on error.
func dumpKeys(tb testing.TB, prefix string) []string {
	tb.Helper()
	items, err := dump(prefix)
	if err != nil {
		tb.Fatal(err)
	}
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.key
	}
	return keys
}

// purge deletes every item whose key starts with prefix and reports how
// many it deleted. The crawler may miss an item that memcached moves
// between its LRU segments during a dump, so purge dumps until a dump
// finds nothing, three times at most.
func purge(prefix string) (int, error) {
	c := memcache.New(serverAddr())
	c.Timeout, c.MaxIdleConns = 5*time.Second, 8
	defer c.Close()
	var deleted atomic.Int64
	for range 3 {
		items, err := dump(prefix)
		if err != nil || len(items) == 0 {
			return int(deleted.Load()), err
		}
		ch := make(chan string)
		errs := make(chan error, 8)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for key := range ch {
					switch err := c.Delete(key); err {
					case nil:
						deleted.Add(1)
					case memcache.ErrCacheMiss:
					default:
						select {
						case errs <- err:
						default:
						}
					}
				}
			})
		}
		for _, it := range items {
			ch <- it.key
		}
		close(ch)
		wg.Wait()
		select {
		case err := <-errs:
			return int(deleted.Load()), err
		default:
		}
	}
	return int(deleted.Load()), nil
}
