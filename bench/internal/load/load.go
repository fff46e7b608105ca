// Package load drives a session server on loopback with a bounded,
// closed-loop load, for cmd/loadgen and the bench module's tests: each of
// Config.Conns keep-alive connections sends GET Config.Path requests one
// after another, and the run reports requests per second, latency
// percentiles and, for a write path, how many acknowledged increments the
// session kept.
//
// Two workloads are defined by where the connections' sessions are:
//
//   - spread: every connection logs in on its own (GET /login), so each
//     has a session of its own, as many users of a site do;
//   - hot: one connection logs in and every connection sends that one
//     session's cookie, as a browser tab firing parallel requests does.
//     Its writes race each other on one record.
//
// The connections may be spread over several instances of a server that
// share a store (Config.Hosts): connection i then talks to Hosts[i %
// len(Hosts)]. Each spread connection logs in on its own host; a hot run
// logs in once, on the first host, and every connection, whatever its
// host, sends that session's cookie, so the instances' writes race on one
// record in the shared store. The lost-update count reads each session's
// counter through its own connection after the run.
//
// It speaks HTTP/1.1 itself over plain TCP, reusing one buffer per
// connection, so it costs far less CPU than the servers it measures. It
// refuses any address that is not on loopback, and every run is bounded:
// at most MaxDuration and MaxRequests.
package load

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keycard-go/keycard/bench/internal/redisctl"
)

// The bounds of every run.
const (
	MaxDuration = 60 * time.Second
	MaxRequests = 10_000_000
	MaxConns    = 256
)

// Session kinds: see the package doc.
const (
	Spread = "spread"
	Hot    = "hot"
)

// Config is one run.
type Config struct {
	// Host is the server's host:port, on loopback.
	Host string
	// Hosts, if set, replaces Host: several instances of one server,
	// sharing a store, each a host:port on loopback. Connection i talks
	// to Hosts[i % len(Hosts)].
	Hosts []string
	// Path is the path every request GETs.
	Path string
	// Conns is how many connections send requests at once.
	Conns int
	// Duration is how long to measure, at most MaxDuration; zero means
	// MaxDuration (Count bounds the run).
	Duration time.Duration
	// Warmup is how long to send requests before measuring.
	Warmup time.Duration
	// Count stops the run after this many measured requests; zero means
	// MaxRequests.
	Count int
	// Session is Spread (the default) or Hot.
	Session string
	// NoLogin leaves out the logins (a spread run without sessions, as
	// for new sessions).
	NoLogin bool
	// NoCookies ignores the cookies responses set.
	NoCookies bool
	// Cookie is a NAME=VALUE cookie every connection starts with.
	Cookie string
	// Lost counts lost updates: Path must be a write that answers the
	// session's counter, starting at 0 at login, after incrementing it.
	// After the run, one more request on each session reads the counter.
	Lost bool
	// PID, if set, is the server's process ID: the run then reports the
	// CPU time the server used per measured request (Linux only).
	PID int
	// PIDs, with several Hosts, are the instances' process IDs: the CPU
	// time per request is then the sum over these processes (PID, if
	// also set, is counted with them).
	PIDs []int
	// Redis, if set, is the host:port of a Redis whose MONITOR stream
	// counts the commands sent during the measured requests (Warmup is
	// then ignored: every request is counted).
	Redis string
}

// Result is one run's outcome, written as a JSON line by cmd/loadgen.
type Result struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Session string `json:"session"`
	Conns   int    `json:"conns"`
	// Instances is how many server instances the connections were
	// spread over, when more than one (Config.Hosts).
	Instances int                `json:"instances,omitempty"`
	Seconds   float64            `json:"seconds"`
	Requests  int                `json:"requests"`
	Errors    int                `json:"errors"`
	Status    map[string]int     `json:"status"`
	RPS       float64            `json:"rps"`
	P50       float64            `json:"p50_us"`
	P90       float64            `json:"p90_us"`
	P99       float64            `json:"p99_us"`
	Max       float64            `json:"max_us"`
	Redis     map[string]float64 `json:"redis,omitempty"` // commands per request, by name
	// CPU is the server's CPU time per measured request, in µs, with
	// Config.PID.
	CPU float64 `json:"cpu_us,omitempty"`
	// With Config.Lost: the increments the server acknowledged (status
	// 200, warm-up included), how many of them the sessions kept, and the
	// difference.
	Acked    int  `json:"acked,omitempty"`
	Survived int  `json:"survived,omitempty"`
	Lost     *int `json:"lost,omitempty"`
}

// Loopback reports whether host is a loopback name or address.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run runs cfg.
func Run(cfg Config) (*Result, error) {
	hosts := cfg.Hosts
	if len(hosts) == 0 {
		hosts = []string{cfg.Host}
	}
	for _, host := range hosts {
		if h, _, err := net.SplitHostPort(host); err != nil || !Loopback(h) {
			return nil, fmt.Errorf("load: host %q: only loopback addresses may be loaded", host)
		}
	}
	var pids []int
	if cfg.PID > 0 {
		pids = append(pids, cfg.PID)
	}
	for _, pid := range cfg.PIDs {
		if pid <= 0 {
			return nil, fmt.Errorf("load: process ID %d", pid)
		}
		if !slices.Contains(pids, pid) {
			pids = append(pids, pid)
		}
	}
	if cfg.Duration <= 0 || cfg.Duration > MaxDuration {
		cfg.Duration = MaxDuration
	}
	if cfg.Count <= 0 || cfg.Count > MaxRequests {
		cfg.Count = MaxRequests
	}
	if cfg.Conns < 1 || cfg.Conns > MaxConns {
		return nil, fmt.Errorf("load: %d connections: want 1 to %d", cfg.Conns, MaxConns)
	}
	switch cfg.Session {
	case "":
		cfg.Session = Spread
	case Spread, Hot:
	default:
		return nil, fmt.Errorf("load: session %q: want %s or %s", cfg.Session, Spread, Hot)
	}
	if (cfg.Session == Hot || cfg.Lost) && cfg.NoLogin {
		return nil, errors.New("load: a hot session and lost updates need logins")
	}
	if cfg.Redis != "" {
		if h, _, err := net.SplitHostPort(cfg.Redis); err != nil || !Loopback(h) {
			return nil, fmt.Errorf("load: Redis %q: want a loopback host:port", cfg.Redis)
		}
		cfg.Warmup = 0
	}
	workers := make([]*conn, cfg.Conns)
	for i := range workers {
		c, err := dial(hosts[i%len(hosts)])
		if err != nil {
			return nil, err
		}
		defer c.close()
		c.keep = !cfg.NoCookies
		if name, value, ok := strings.Cut(cfg.Cookie, "="); ok {
			c.jar[name] = value
			c.makeHeader()
		}
		switch {
		case cfg.NoLogin:
		case cfg.Session == Hot && i > 0:
			c.jar = maps.Clone(workers[0].jar)
			c.makeHeader()
		default:
			if err := c.login(); err != nil {
				return nil, err
			}
		}
		workers[i] = c
	}
	var mon *redisctl.Monitor
	if cfg.Redis != "" {
		var err error
		if mon, err = redisctl.StartMonitor(cfg.Redis); err != nil {
			return nil, err
		}
	}
	var (
		issued  atomic.Int64
		wg      sync.WaitGroup
		lats    = make([][]time.Duration, cfg.Conns)
		status  = make([]map[int]int, cfg.Conns)
		acked   = make([]int, cfg.Conns) // status 200, warm-up included
		errs    = make([]error, cfg.Conns)
		start   = time.Now()
		measure = start.Add(cfg.Warmup)
		end     = measure.Add(cfg.Duration)
	)
	// The server's CPU time (summed over its processes) is read when the
	// measured window opens and when the last request ends.
	var cpu0, cpu1 time.Duration
	var cpuErr error
	if len(pids) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(measure))
			cpu0, cpuErr = processesCPU(pids)
		}()
	}
	for i, c := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<14)
			st := make(map[int]int)
			for {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				counted := !t0.Before(measure)
				if counted && issued.Add(1) > int64(cfg.Count) {
					break
				}
				code, err := c.get(cfg.Path)
				if err != nil {
					errs[i] = err
					break
				}
				if code == http.StatusOK {
					acked[i]++
				}
				if counted {
					lat = append(lat, time.Since(t0))
					st[code]++
				}
			}
			lats[i], status[i] = lat, st
		}()
	}
	wg.Wait()
	elapsed := min(time.Since(measure), cfg.Duration)
	if len(pids) > 0 && cpuErr == nil {
		cpu1, cpuErr = processesCPU(pids)
	}
	if cpuErr != nil {
		return nil, cpuErr
	}
	res := &Result{Path: cfg.Path, Session: cfg.Session, Conns: cfg.Conns, Status: make(map[string]int)}
	if len(hosts) > 1 {
		res.Instances = len(hosts)
	}
	var counts map[string]int64
	if mon != nil {
		var err error
		if counts, err = mon.Stop(); err != nil {
			return nil, err
		}
	}
	var all []time.Duration
	for i := range workers {
		if errs[i] != nil {
			return nil, errs[i]
		}
		all = append(all, lats[i]...)
		for code, n := range status[i] {
			res.Status[strconv.Itoa(code)] += n
			if code != http.StatusOK {
				res.Errors += n
			}
		}
	}
	if len(all) == 0 {
		return nil, errors.New("load: no request completed")
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		i := int(p * float64(len(all)-1))
		return float64(all[i]) / float64(time.Microsecond)
	}
	res.Requests = len(all)
	res.Seconds = elapsed.Seconds()
	res.RPS = float64(len(all)) / elapsed.Seconds()
	res.P50, res.P90, res.P99 = pct(0.50), pct(0.90), pct(0.99)
	res.Max = float64(all[len(all)-1]) / float64(time.Microsecond)
	if len(pids) > 0 {
		res.CPU = float64(cpu1-cpu0) / float64(time.Microsecond) / float64(len(all))
	}
	if mon != nil {
		res.Redis = make(map[string]float64)
		for k, v := range counts {
			if redisctl.PerRequest(k) {
				res.Redis[k] = float64(v) / float64(res.Requests)
			}
		}
	}
	if cfg.Lost {
		if err := countLost(res, cfg, workers, acked); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// countLost reads each session's counter with one more request of the
// write path, once the load has stopped, and compares it with the
// increments acknowledged on that session. A hot session's counter is
// read on the first connection (the first host); with several hosts its
// increments were acknowledged by all of them.
func countLost(res *Result, cfg Config, workers []*conn, acked []int) error {
	sessions := workers
	if cfg.Session == Hot {
		sessions = workers[:1]
	}
	for _, a := range acked {
		res.Acked += a
	}
	for _, c := range sessions {
		c.capture = true
		code, err := c.get(cfg.Path)
		c.capture = false
		if err != nil {
			return fmt.Errorf("load: reading the counter: %w", err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(c.body)))
		if code != http.StatusOK || err != nil {
			return fmt.Errorf("load: reading the counter: status %d, body %q", code, c.body)
		}
		res.Survived += n - 1 // the reading request's own increment
	}
	lost := res.Acked - res.Survived
	res.Lost = &lost
	return nil
}

// login sends GET /login and keeps the cookies it sets.
func (c *conn) login() error {
	st, err := c.get("/login")
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if st != http.StatusOK {
		return fmt.Errorf("login: status %d", st)
	}
	return nil
}
