package reliability_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store/storetest"
)

// redisServer is a private redis-server process on a loopback port, with
// no persistence, that a test may stop, start again on the same port,
// pause and resume. Only this test talks to it.
type redisServer struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	Addr string
	cmd  *exec.Cmd
}

// startRedis starts a private redis-server, or skips (fails under CI=true)
// when there is no redis-server on PATH. It is killed, by PID, when tb
// ends.
func startRedis(tb testing.TB) *redisServer {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		storetest.Unavailable(tb, "redis-server on PATH", err)
	}
	r := &redisServer{tb: tb, bin: bin, dir: tb.TempDir()}
	for range 100 {
		p := 20000 + rand.IntN(10000) // below the ephemeral port range
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			l.Close()
			r.port = p
			break
		}
	}
	if r.port == 0 {
		tb.Fatal("found no free port for redis-server")
	}
	r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))
	tb.Cleanup(r.Kill)
	r.Start()
	return r
}

// Start starts the server on its port and waits until it answers PING.
func (r *redisServer) Start() {
	r.tb.Helper()
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--daemonize", "no",
		"--save", "", "--appendonly", "no", "--dir", r.dir,
		"--logfile", filepath.Join(r.dir, "redis.log"))
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		r.tb.Fatalf("starting redis-server: %v", err)
	}
	r.cmd = cmd
	until := time.Now().Add(time.Minute) // a guard: it answers in milliseconds
	for {
		if _, err := redisCommand(r.Addr, "PING"); err == nil {
			return
		}
		if time.Now().After(until) {
			r.tb.Fatalf("redis-server on %s did not answer PING within a minute", r.Addr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Stop stops the server with SIGTERM, as a service manager would, and
// waits for it to exit. With no persistence its data is gone.
func (r *redisServer) Stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.cmd.Wait()
	r.cmd = nil
}

// Kill kills the server with SIGKILL (resuming it first if paused).
func (r *redisServer) Kill() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGCONT)
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// Pause freezes the process with SIGSTOP: connections stay open, the
// data stays, and nothing answers until Resume.
func (r *redisServer) Pause() { r.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume lets a paused server run again with SIGCONT.
func (r *redisServer) Resume() { r.cmd.Process.Signal(syscall.SIGCONT) }

// redisCommand sends one inline command on a new connection and returns
// the first line of the reply.
func redisCommand(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\r\n", strings.Join(args, " ")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "-") {
		return "", fmt.Errorf("redis: %s", line[1:])
	}
	return line, nil
}
