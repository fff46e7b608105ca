// Command loadgen drives a session server on loopback with a bounded,
// closed-loop load: each of -c connections logs in once (GET /login, keeping
// the cookies it is given), then sends GET -path requests one after another
// on its keep-alive connection for -d (or until -n requests), and the run
// reports requests per second and latency percentiles.
//
//	loadgen -url http://127.0.0.1:8080 -path /read -c 8 -d 10s
//	loadgen -url http://127.0.0.1:8080 -path /read -c 1 -n 200 -redis 127.0.0.1:6390
//
// With -redis it also counts, from the Redis server's MONITOR stream, the
// commands the server under test sent while the requests ran (not the
// logins before them), and reports them per request. MONITOR slows Redis,
// so use it for counting runs, not for throughput.
//
// It speaks HTTP/1.1 itself over plain TCP, reusing one buffer per
// connection, so it costs far less CPU than the servers it measures. It
// refuses any address that is not on loopback, and every run is bounded:
// at most 60 seconds and 10 million requests.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keycard-go/keycard/bench/internal/redisctl"
)

const (
	maxDuration = 60 * time.Second
	maxRequests = 10_000_000
)

// Result is one run's outcome, written as a JSON line to -json.
type Result struct {
	Name     string             `json:"name"`
	Path     string             `json:"path"`
	Conns    int                `json:"conns"`
	Seconds  float64            `json:"seconds"`
	Requests int                `json:"requests"`
	Errors   int                `json:"errors"`
	Status   map[string]int     `json:"status"`
	RPS      float64            `json:"rps"`
	P50      float64            `json:"p50_us"`
	P90      float64            `json:"p90_us"`
	P99      float64            `json:"p99_us"`
	Max      float64            `json:"max_us"`
	Redis    map[string]float64 `json:"redis,omitempty"` // commands per request, by name
}

func main() {
	var (
		base     = flag.String("url", "http://127.0.0.1:8080", "the server's base URL, on loopback")
		path     = flag.String("path", "/read", "the path to request")
		conns    = flag.Int("c", 8, "connections, each one client session")
		dur      = flag.Duration("d", 10*time.Second, "how long to measure (at most 60s)")
		warm     = flag.Duration("warmup", time.Second, "how long to run before measuring")
		count    = flag.Int("n", 0, "stop after this many measured requests (0: only -d bounds the run)")
		login    = flag.Bool("login", true, "GET /login on each connection first")
		cookies  = flag.Bool("cookies", true, "keep the cookies responses set, as a browser does")
		preset   = flag.String("cookie", "", "a NAME=VALUE cookie every connection starts with (to give a bare server the request bytes a session server gets)")
		redis    = flag.String("redis", "", "count the commands sent to this Redis (host:port) during the run")
		name     = flag.String("name", "", "a label for the run")
		jsonOut  = flag.String("json", "", "append the result as a JSON line to this file")
		waitOnly = flag.Bool("wait", false, "only wait (up to 15s) until GET /health answers 200, then exit")
	)
	flag.Parse()
	u, err := url.Parse(*base)
	if err != nil || u.Scheme != "http" {
		fatalf("-url %q: want http://127.0.0.1:PORT", *base)
	}
	if !loopback(u.Hostname()) {
		fatalf("-url %q: only loopback addresses may be loaded", *base)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	if *waitOnly {
		if err := waitHealthy(host); err != nil {
			fatalf("%v", err)
		}
		return
	}
	if *dur <= 0 || *dur > maxDuration {
		*dur = maxDuration
	}
	if *count <= 0 || *count > maxRequests {
		*count = maxRequests
	}
	if *conns < 1 || *conns > 256 {
		fatalf("-c %d: want 1 to 256", *conns)
	}
	if *redis != "" {
		*warm = 0 // counted runs count every request
		if h, _, err := net.SplitHostPort(*redis); err != nil || !loopback(h) {
			fatalf("-redis %q: want a loopback host:port", *redis)
		}
	}
	res, err := run(host, *path, *conns, *dur, *warm, *count, *login, *cookies, *preset, *redis)
	if err != nil {
		fatalf("%v", err)
	}
	res.Name = *name
	fmt.Printf("%-16s %-7s c=%-2d %8.0f req/s  p50 %7.1f µs  p99 %8.1f µs  %d requests, %d errors",
		res.Name, res.Path, res.Conns, res.RPS, res.P50, res.P99, res.Requests, res.Errors)
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

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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

func waitHealthy(host string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := dial(host)
		if err == nil {
			var st int
			st, err = c.get("/health")
			c.close()
			if err == nil && st == http.StatusOK {
				return nil
			}
			if err == nil {
				err = fmt.Errorf("status %d", st)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/health did not answer 200: %v", host, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func run(host, path string, conns int, dur, warm time.Duration, count int, login, keep bool, preset, redisAddr string) (*Result, error) {
	workers := make([]*conn, conns)
	for i := range workers {
		c, err := dial(host)
		if err != nil {
			return nil, err
		}
		defer c.close()
		c.keep = keep
		if name, value, ok := strings.Cut(preset, "="); ok {
			c.jar[name] = value
			c.makeHeader()
		}
		if login {
			st, err := c.get("/login")
			if err != nil {
				return nil, fmt.Errorf("login: %w", err)
			}
			if st != http.StatusOK {
				return nil, fmt.Errorf("login: status %d", st)
			}
		}
		workers[i] = c
	}
	var mon *redisctl.Monitor
	if redisAddr != "" {
		var err error
		if mon, err = redisctl.StartMonitor(redisAddr); err != nil {
			return nil, err
		}
	}
	var (
		issued  atomic.Int64
		wg      sync.WaitGroup
		lats    = make([][]time.Duration, conns)
		status  = make([]map[int]int, conns)
		errs    = make([]error, conns)
		start   = time.Now()
		measure = start.Add(warm)
		end     = measure.Add(dur)
	)
	for i, c := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			st := make(map[int]int)
			for {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				counted := !t0.Before(measure)
				if counted && issued.Add(1) > int64(count) {
					break
				}
				code, err := c.get(path)
				if err != nil {
					errs[i] = err
					break
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
	elapsed := time.Since(measure)
	if elapsed > dur {
		elapsed = dur
	}
	res := &Result{Path: path, Conns: conns, Status: make(map[string]int)}
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
		return nil, errors.New("no request completed")
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
	if mon != nil {
		res.Redis = make(map[string]float64)
		for k, v := range counts {
			if redisctl.PerRequest(k) {
				res.Redis[k] = float64(v) / float64(res.Requests)
			}
		}
	}
	return res, nil
}

// conn is one keep-alive HTTP/1.1 connection with its cookie jar.
type conn struct {
	host string
	c    net.Conn
	r    *bufio.Reader
	buf  []byte
	keep bool              // apply Set-Cookie headers to the jar
	jar  map[string]string // cookie name to value
	hdr  string            // the Cookie header the jar makes
}

func dial(host string) (*conn, error) {
	c := &conn{host: host, jar: make(map[string]string)}
	return c, c.connect()
}

func (c *conn) connect() error {
	nc, err := net.DialTimeout("tcp", c.host, 5*time.Second)
	if err != nil {
		return err
	}
	c.c, c.r = nc, bufio.NewReaderSize(nc, 16<<10)
	return nil
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
	}
}

// get sends GET path and reads the whole response. It reconnects once if
// the server closed the connection.
func (c *conn) get(path string) (int, error) {
	st, err := c.roundTrip(path)
	if err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)) {
		c.close()
		if err := c.connect(); err != nil {
			return 0, err
		}
		st, err = c.roundTrip(path)
	}
	return st, err
}

func (c *conn) roundTrip(path string) (int, error) {
	b := c.buf[:0]
	b = append(b, "GET "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.host...)
	b = append(b, "\r\nUser-Agent: keycard-loadgen\r\nAccept: */*\r\n"...)
	if c.hdr != "" {
		b = append(b, "Cookie: "...)
		b = append(b, c.hdr...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	c.buf = b
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.c.Write(b); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, chunked, closing, changed := -1, false, false, false
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case asciiEqual(k, "content-length"):
			length, err = strconv.Atoi(string(v))
			if err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", v)
			}
		case asciiEqual(k, "transfer-encoding"):
			chunked = bytes.Contains(bytes.ToLower(v), []byte("chunked"))
		case asciiEqual(k, "connection"):
			closing = bytes.EqualFold(v, []byte("close"))
		case asciiEqual(k, "set-cookie") && c.keep:
			c.setCookie(string(v))
			changed = true
		}
	}
	switch {
	case chunked:
		err = c.skipChunked()
	case length >= 0:
		_, err = c.r.Discard(length)
	default:
		closing = true
		_, err = io.Copy(io.Discard, c.r)
	}
	if err != nil {
		return 0, err
	}
	if changed {
		c.makeHeader()
	}
	if closing {
		c.close()
		if err := c.connect(); err != nil {
			return 0, err
		}
	}
	return status, nil
}

func (c *conn) skipChunked() error {
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		sz, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(sz), 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", sz)
		}
		if n == 0 {
			for { // trailers, then the empty line
				line, err := c.r.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if _, err := c.r.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}

// setCookie applies one Set-Cookie header value: an empty value, a
// Max-Age of 0 or less, or an Expires in the past removes the cookie.
func (c *conn) setCookie(v string) {
	pair, attrs, _ := strings.Cut(v, ";")
	name, value, _ := strings.Cut(strings.TrimSpace(pair), "=")
	remove := value == ""
	for _, a := range strings.Split(attrs, ";") {
		k, av, _ := strings.Cut(strings.TrimSpace(a), "=")
		switch strings.ToLower(k) {
		case "max-age":
			if n, err := strconv.Atoi(av); err == nil && n <= 0 {
				remove = true
			}
		case "expires":
			if t, err := http.ParseTime(av); err == nil && t.Before(time.Now()) {
				remove = true
			}
		}
	}
	if remove {
		delete(c.jar, name)
	} else {
		c.jar[name] = value
	}
}

func (c *conn) makeHeader() {
	names := make([]string, 0, len(c.jar))
	for k := range c.jar {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(c.jar[k])
	}
	c.hdr = b.String()
}

func asciiEqual(b []byte, lower string) bool {
	return len(b) == len(lower) && bytes.EqualFold(b, []byte(lower))
}
