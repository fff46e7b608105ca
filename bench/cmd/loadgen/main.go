// Command loadgen drives a session server on loopback with a bounded,
// closed-loop load (package bench/internal/load): -c connections send GET
// -path requests one after another on keep-alive connections for -d (or
// until -n requests), and the run reports requests per second and latency
// percentiles.
//
//	loadgen -url http://127.0.0.1:8080 -path /read -c 32 -d 10s
//	loadgen -url http://127.0.0.1:8080 -path /write -c 32 -session hot -lost -d 10s
//	loadgen -url http://127.0.0.1:8080 -path /read -c 1 -n 200 -redis 127.0.0.1:6390
//	loadgen -url http://127.0.0.1:8080,http://127.0.0.1:8081 -path /write -c 32 -session hot -lost -pid 101,102
//
// -url may list several base URLs, comma-separated: instances of one
// server sharing a store. Connection i then talks to the i-th URL modulo
// their number; a hot session is logged in on the first and every
// connection sends its cookie, so the instances' writes race on one
// record. -pid then takes the instances' process IDs, comma-separated,
// and the CPU time per request is their sum.
//
// -session spread (the default) logs each connection in on its own, so
// each has a session of its own; -session hot logs in once and every
// connection sends that one session's cookie, as a browser tab firing
// parallel requests does. -lost (for /write) counts lost updates: once the
// load stops, one more /write on each session reads its counter, which is
// compared with the increments the server acknowledged. -pid reports the
// server process's CPU time per measured request, which a busy machine
// inflates less than it cuts the server's rate.
//
// With -redis it also counts, from the Redis server's MONITOR stream, the
// commands the server under test sent while the requests ran (not the
// logins before them), and reports them per request. MONITOR slows Redis,
// so use it for counting runs, not for throughput.
//
// It refuses any address that is not on loopback, and every run is
// bounded: at most 60 seconds and 10 million requests. It exits 1 when a
// request got a status other than 200, after printing the result.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keycard-go/keycard/bench/internal/load"
)

func main() {
	var (
		base     = flag.String("url", "http://127.0.0.1:8080", "the server's base URL, on loopback; several, comma-separated, spread the connections over instances sharing a store")
		path     = flag.String("path", "/read", "the path to request")
		conns    = flag.Int("c", 8, "connections")
		session  = flag.String("session", load.Spread, "spread: a session per connection; hot: every connection on one session")
		lost     = flag.Bool("lost", false, "count lost updates (for /write): compare each session's counter with the acknowledged increments")
		dur      = flag.Duration("d", 10*time.Second, "how long to measure (at most 60s)")
		warm     = flag.Duration("warmup", time.Second, "how long to run before measuring")
		count    = flag.Int("n", 0, "stop after this many measured requests (0: only -d bounds the run)")
		login    = flag.Bool("login", true, "GET /login on each connection first")
		cookies  = flag.Bool("cookies", true, "keep the cookies responses set, as a browser does")
		preset   = flag.String("cookie", "", "a NAME=VALUE cookie every connection starts with (to give a bare server the request bytes a session server gets)")
		pid      = flag.String("pid", "", "the server's process ID, or its instances' IDs comma-separated: report its CPU time per request (Linux)")
		redis    = flag.String("redis", "", "count the commands sent to this Redis (host:port) during the run")
		name     = flag.String("name", "", "a label for the run")
		jsonOut  = flag.String("json", "", "append the result as a JSON line to this file")
		waitOnly = flag.Bool("wait", false, "only wait (up to 15s) until GET /health answers 200, then exit")
	)
	flag.Parse()
	var hosts []string
	for _, b := range strings.Split(*base, ",") {
		b = strings.TrimSpace(b)
		u, err := url.Parse(b)
		if err != nil || u.Scheme != "http" {
			fatalf("-url %q: want http://127.0.0.1:PORT", b)
		}
		if !load.Loopback(u.Hostname()) {
			fatalf("-url %q: only loopback addresses may be loaded", b)
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
		hosts = append(hosts, host)
	}
	var pids []int
	if *pid != "" {
		for _, f := range strings.Split(*pid, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				fatalf("-pid %q: want process IDs, comma-separated", *pid)
			}
			pids = append(pids, n)
		}
	}
	if *waitOnly {
		for _, host := range hosts {
			if err := load.WaitHealthy(host); err != nil {
				fatalf("%v", err)
			}
		}
		return
	}
	res, err := load.Run(load.Config{
		Hosts: hosts, Path: *path, Conns: *conns, Duration: *dur, Warmup: *warm, Count: *count,
		Session: *session, NoLogin: !*login, NoCookies: !*cookies, Cookie: *preset, Lost: *lost, PIDs: pids, Redis: *redis,
	})
	if err != nil {
		fatalf("%v", err)
	}
	res.Name = *name
	fmt.Printf("%-22s %-7s %-6s c=%-2d %8.0f req/s  p50 %7.1f µs  p99 %8.1f µs  %d requests, %d errors",
		res.Name, res.Path, res.Session, res.Conns, res.RPS, res.P50, res.P99, res.Requests, res.Errors)
	if res.Instances > 1 {
		fmt.Printf("  over %d instances", res.Instances)
	}
	if res.CPU > 0 {
		fmt.Printf("  server CPU %.1f µs/request", res.CPU)
	}
	if res.Lost != nil {
		fmt.Printf("  lost %d of %d", *res.Lost, res.Acked)
	}
	if res.Redis != nil {
		fmt.Printf("  redis/request:%s", formatCounts(res.Redis))
	}
	fmt.Println()
	if *jsonOut != "" {
		f, err := os.OpenFile(*jsonOut, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fatalf("%v", err)
		}
		json.NewEncoder(f).Encode(res)
		f.Close()
	}
	if res.Errors > 0 {
		os.Exit(1)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(2)
}

func formatCounts(m map[string]float64) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, " %s=%.2f", k, m[k])
	}
	return b.String()
}
