package redistest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store/storetest"
)

// Server is a redis-server process started for one test.
type Server struct {
	Addr string
	PID  int
	cmd  *exec.Cmd
}

// Stop kills the server by PID and waits for it to exit. It is safe to
// call more than once.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// binaries returns the paths of redis-server and redis-cli, or skips (fails
// under CI=true) when they are not on PATH.
func binaries(tb testing.TB) (server, cli string) {
	tb.Helper()
	server, err := exec.LookPath("redis-server")
	if err == nil {
		cli, err = exec.LookPath("redis-cli")
	}
	if err != nil {
		storetest.Unavailable(tb, "redis-server and redis-cli on PATH", err)
	}
	return server, cli
}

// StartServer starts a private, empty redis-server on a free loopback
// port, with no persistence, stopped when tb ends.
func StartServer(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	bin, _ := binaries(tb)
	dir := tb.TempDir()
	port := freePort(tb)
	srv := start(tb, bin, dir, port, extra...)
	return srv
}

// start runs redis-server on port and waits until it answers PING.
func start(tb testing.TB, bin, dir string, port int, extra ...string) *Server {
	tb.Helper()
	args := []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--daemonize", "no",
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--logfile", filepath.Join(dir, fmt.Sprintf("redis-%d.log", port)),
	}
	cmd := exec.Command(bin, append(args, extra...)...)
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		tb.Fatalf("redistest: starting redis-server: %v", err)
	}
	srv := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), PID: cmd.Process.Pid, cmd: cmd}
	tb.Cleanup(srv.Stop)
	deadline := time.Now().Add(time.Minute) // a guard: it answers in milliseconds
	for {
		_, err := Command(srv.Addr, "PING")
		if err == nil {
			return srv
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: redis-server on port %d did not answer within a minute: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a loopback port between 10000 and 19999 that is free,
// and whose cluster bus port (port+10000) is free too. Both lie below the
// usual range of ephemeral ports.
func freePort(tb testing.TB) int {
	tb.Helper()
	for range 200 {
		p := 10000 + rand.IntN(10000)
		if portFree(p) && portFree(p+10000) {
			return p
		}
	}
	tb.Fatal("redistest: found no free port")
	return 0
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// StartCluster starts a Redis Cluster of three masters with one replica
// each, all on loopback, and returns it once every node reports
// cluster_state:ok. Every process is stopped by PID when tb ends, whether
// the test passed or not.
func StartCluster(tb testing.TB) *Target {
	tb.Helper()
	bin, cli := binaries(tb)
	dir := tb.TempDir()
	began := time.Now()
	var addrs []string
	used := make(map[int]bool)
	for range 6 {
		port := freePort(tb)
		for used[port] || used[port+10000] || used[port-10000] {
			port = freePort(tb)
		}
		used[port] = true
		srv := start(tb, bin, dir, port,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", port)),
			// No test fails a node over: a long node timeout keeps a
			// loaded machine's stalls from making the nodes think one
			// failed, and fail it over in the middle of a test.
			"--cluster-node-timeout", "60000")
		addrs = append(addrs, srv.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(2 * time.Minute) // a guard: it takes a second or two
	for _, addr := range addrs {
		for {
			info, err := Command(addr, "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("redistest: cluster node %s not ok within 2 minutes: %v\n%s", addr, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	tb.Logf("redistest: cluster of %d nodes ready in %v", len(addrs), time.Since(began).Round(time.Millisecond))
	return newTarget(tb, addrs, true)
}
