// Command report turns the outputs of bench/run.sh into one Markdown
// results file and a PNG chart of the main comparison.
//
//	report -inproc raw.txt -http http.jsonl -rtt rtt.jsonl -mem mem.jsonl \
//	       -scale scale.md -benchstat benchstat.txt -machine machine.txt \
//	       -out results.md -png bench.png
//
// Every ratio it prints compares numbers of the same run.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func main() {
	var (
		inproc    = flag.String("inproc", "", "raw `go test -bench` output")
		httpRuns  = flag.String("http", "", "loadgen JSON lines of the throughput runs")
		rttRuns   = flag.String("rtt", "", "loadgen JSON lines of the counting runs")
		memRuns   = flag.String("mem", "", "JSON lines of Redis bytes per session")
		scale     = flag.String("scale", "", "Markdown from cmd/scale")
		benchstat = flag.String("benchstat", "", "benchstat's output")
		machine   = flag.String("machine", "", "a description of the machine")
		out       = flag.String("out", "results.md", "the Markdown file to write")
		png       = flag.String("png", "", "the PNG chart to write")
	)
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("report: ")

	var r report
	if *inproc != "" {
		r.bench = parseBench(*inproc)
	}
	if *httpRuns != "" {
		r.http = readRuns(*httpRuns)
	}
	if *rttRuns != "" {
		r.rtt = readRuns(*rttRuns)
	}
	if *memRuns != "" {
		r.mem = readMem(*memRuns)
	}
	var b strings.Builder
	r.write(&b, readText(*machine), readText(*benchstat), readText(*scale))
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	if *png != "" {
		if err := r.chart(*png); err != nil {
			log.Fatal(err)
		}
	}
}

func readText(name string) string {
	if name == "" {
		return ""
	}
	b, err := os.ReadFile(name)
	if err != nil {
		log.Printf("%v (left out)", err)
		return ""
	}
	return strings.TrimSpace(string(b))
}

// An impl is one in-process implementation, as the benchmarks name it.
type impl struct{ backend, lib string }

// implOrder lists the in-process implementations in table order, with
// their display names.
var implOrder = []struct {
	impl
	name   string
	server string // the HTTP server of the same implementation
}{
	{impl{"none", "bare"}, "bare net/http (ceiling)", "bare"},
	{impl{"none", "bare-headers"}, "bare + the cache headers (Vary, Cache-Control)", "bare-headers"},
	{impl{"memory", "keycard"}, "**Keycard**, memory store", "keycard-memory"},
	{impl{"memory", "scs"}, "scs, memstore", "scs-memory"},
	{impl{"cookie", "keycard"}, "**Keycard**, sealed cookie", "keycard-sealed"},
	{impl{"cookie", "gorilla"}, "gorilla, CookieStore", "gorilla-cookie"},
	{impl{"sqlite", "keycard"}, "**Keycard**, SQLite", "keycard-sqlite"},
	{impl{"sqlite", "scs"}, "scs, SQLite (sqlite3store)", "scs-sqlite"},
	{impl{"redis", "bare+get"}, "bare + one rueidis GET (floor)", "bare-redisget"},
	{impl{"redis", "keycard"}, "**Keycard**, Redis (rueidis)", "keycard-redis"},
	{impl{"redis", "scs"}, "scs, Redis (goredisstore)", "scs-redis"},
	{impl{"redis", "gorilla"}, "gorilla, Redis (boj/redistore)", "gorilla-redis"},
}

// serverOrder lists the HTTP servers in table order.
var serverOrder = []struct{ name, label, backend string }{
	{"bare", "bare net/http (ceiling)", "none"},
	{"bare-headers", "bare + the cache headers (Vary, Cache-Control)", "none"},
	{"bare-context", "bare + the cache headers + 512 B of per-request state in the context", "none"},
	{"keycard-memory", "**Keycard**, memory store", "memory"},
	{"scs-memory", "scs, memstore", "memory"},
	{"gorilla-cookie", "gorilla, CookieStore", "memory"},
	{"express-memory", "express-session, MemoryStore (Node)", "memory"},
	{"keycard-sqlite", "**Keycard**, SQLite", "sqlite"},
	{"scs-sqlite", "scs, SQLite (sqlite3store)", "sqlite"},
	{"keycard-postgres", "**Keycard**, PostgreSQL", "sql"},
	{"keycard-mysql", "**Keycard**, MySQL", "sql"},
	{"bare-redisget", "bare + one rueidis GET (floor)", "redis"},
	{"bare-context-redisget", "bare-context + one rueidis GET", "redis"},
	{"keycard-redis", "**Keycard**, Redis (rueidis)", "redis"},
	{"scs-redis", "scs, Redis (goredisstore)", "redis"},
	{"gorilla-redis", "gorilla, Redis (boj/redistore)", "redis"},
	{"express-redis", "express-session, connect-redis (Node)", "redis"},
}

var paths = []string{"new", "read", "write", "login"}

var pathDoc = map[string]string{
	"new":   "new session: `GET /login` without a cookie",
	"read":  "read-only request: `GET /read` with a logged-in session",
	"write": "write request: `GET /write` (Keycard: atomic `Update`; peers: read-modify-write)",
	"login": "renew: `GET /login` with a logged-in session (new ID, old record deleted)",
}

// A sample is one benchmark result line.
type sample struct {
	path string
	impl
	values map[string]float64 // by unit: "ns/op", "B/op", ...
}

var benchLine = regexp.MustCompile(`^Benchmark(\w+)/backend=([^/\s]+)/lib=(\S+?)(?:-\d+)?\s+\d+\s+(.+)$`)

func parseBench(name string) map[string]map[impl][]sample {
	f, err := os.Open(name)
	if err != nil {
		log.Printf("%v (left out)", err)
		return nil
	}
	defer f.Close()
	out := make(map[string]map[impl][]sample)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		s := sample{path: strings.ToLower(m[1]), impl: impl{m[2], m[3]}, values: make(map[string]float64)}
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err == nil {
				s.values[f[i+1]] = v
			}
		}
		if out[s.path] == nil {
			out[s.path] = make(map[impl][]sample)
		}
		out[s.path][s.impl] = append(out[s.path][s.impl], s)
	}
	return out
}

// Run is a loadgen result; Name is "server:workload" for the HTTP runs
// ("keycard-redis:write-hot") and "server:path" for the counting runs.
type Run struct {
	Name     string             `json:"name"`
	Requests int                `json:"requests"`
	Errors   int                `json:"errors"`
	RPS      float64            `json:"rps"`
	P50      float64            `json:"p50_us"`
	P99      float64            `json:"p99_us"`
	Redis    map[string]float64 `json:"redis"`
	CPU      float64            `json:"cpu_us"`
	Acked    int                `json:"acked"`
	Survived int                `json:"survived"`
	Lost     *int               `json:"lost"`
}

func readRuns(name string) map[string][]Run {
	f, err := os.Open(name)
	if err != nil {
		log.Printf("%v (left out)", err)
		return nil
	}
	defer f.Close()
	out := make(map[string][]Run)
	dec := json.NewDecoder(f)
	for {
		var r Run
		if err := dec.Decode(&r); err != nil {
			break
		}
		out[r.Name] = append(out[r.Name], r)
	}
	return out
}

// Mem is the Redis memory one implementation's sessions took.
type Mem struct {
	Name     string  `json:"name"`
	Sessions int     `json:"sessions"`
	Bytes    float64 `json:"bytes_per_session"`
	KeyBytes int     `json:"key_bytes"`
}

func readMem(name string) map[string]Mem {
	f, err := os.Open(name)
	if err != nil {
		log.Printf("%v (left out)", err)
		return nil
	}
	defer f.Close()
	out := make(map[string]Mem)
	dec := json.NewDecoder(f)
	for {
		var m Mem
		if err := dec.Decode(&m); err != nil {
			break
		}
		out[m.Name] = m
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type report struct {
	bench map[string]map[impl][]sample
	http  map[string][]Run
	rtt   map[string][]Run
	mem   map[string]Mem
}

// stat returns the median of unit over path's samples of im, and whether
// there were any.
func (r *report) stat(path string, im impl, unit string) (float64, bool) {
	ss := r.bench[path][im]
	var xs []float64
	for _, s := range ss {
		if v, ok := s.values[unit]; ok {
			xs = append(xs, v)
		}
	}
	return median(xs), len(xs) > 0
}

// pairs returns the per-run values of unit for a and b: run.sh runs the
// whole suite COUNT times, so the i-th sample of each benchmark comes from
// the same pass over all of them, close in time.
func (r *report) pairs(path string, a, b impl, unit string) (xs, ys []float64) {
	sa, sb := r.bench[path][a], r.bench[path][b]
	for i := 0; i < len(sa) && i < len(sb); i++ {
		x, ok1 := sa[i].values[unit]
		y, ok2 := sb[i].values[unit]
		if ok1 && ok2 {
			xs, ys = append(xs, x), append(ys, y)
		}
	}
	return xs, ys
}

// diff returns the median over runs of a's unit minus b's.
func (r *report) diff(path string, a, b impl, unit string) (float64, bool) {
	xs, ys := r.pairs(path, a, b, unit)
	for i := range xs {
		xs[i] -= ys[i]
	}
	return median(xs), len(xs) > 0
}

// ratio returns the median over runs of a's unit divided by b's.
func (r *report) ratio(path string, a, b impl, unit string) (float64, bool) {
	xs, ys := r.pairs(path, a, b, unit)
	for i := range xs {
		xs[i] /= ys[i]
	}
	return median(xs), len(xs) > 0
}

// spread returns the half-range of the middle 80% of the samples, relative
// to the median: a plain-language noise figure beside benchstat's.
func (r *report) spread(path string, im impl) float64 {
	var xs []float64
	for _, s := range r.bench[path][im] {
		xs = append(xs, s.values["ns/op"])
	}
	if len(xs) < 3 {
		return 0
	}
	sort.Float64s(xs)
	cut := len(xs) / 10
	lo, hi := xs[cut], xs[len(xs)-1-cut]
	return (hi - lo) / 2 / median(xs)
}

// httpRatio returns the median over rounds of a's rate divided by b's in
// the same round: the rounds visit every server in turn, so a pair from one
// round saw the same phase of the machine's other load.
func (r *report) httpRatio(a, b, path string) (float64, bool) {
	ra, rb := r.http[a+":"+path], r.http[b+":"+path]
	var xs []float64
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i].Errors == 0 && rb[i].Errors == 0 && rb[i].RPS > 0 {
			xs = append(xs, ra[i].RPS/rb[i].RPS)
		}
	}
	return median(xs), len(xs) > 0
}

func (r *report) httpStat(server, path string, f func(Run) float64) (float64, bool) {
	runs := r.http[server+":"+path]
	var xs []float64
	for _, run := range runs {
		if run.Errors == 0 && run.Requests > 0 {
			xs = append(xs, f(run))
		}
	}
	return median(xs), len(xs) > 0
}

func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func (r *report) write(b *strings.Builder, machine, benchstat, scale string) {
	fmt.Fprintln(b, "# Keycard and its peers: results")
	fmt.Fprintln(b)
	fmt.Fprintln(b, "Generated by `bench/run.sh`. Every ratio compares numbers from the same run; absolute numbers move with the machine's other load.")
	fmt.Fprintln(b)
	if machine != "" {
		fmt.Fprintln(b, "## Machine")
		fmt.Fprintln(b)
		fmt.Fprintln(b, machine)
		fmt.Fprintln(b)
	}
	if r.bench != nil {
		r.writeInProcess(b)
	}
	if r.http != nil {
		r.writeHTTP(b)
	}
	r.writeRoundTrips(b)
	if r.mem != nil || scale != "" {
		fmt.Fprintln(b, "## Scale")
		fmt.Fprintln(b)
		r.writeMem(b)
		if scale != "" {
			fmt.Fprintln(b, scale)
			fmt.Fprintln(b)
		}
	}
	r.writeTargets(b)
	if benchstat != "" {
		fmt.Fprintln(b, "## benchstat")
		fmt.Fprintln(b)
		fmt.Fprintln(b, "`benchstat -col '/lib@(keycard scs gorilla bare+get)'` over the in-process runs: each row is a path and a backend, each column a library compared with Keycard's (the base), with 95% confidence intervals and p-values.")
		fmt.Fprintln(b)
		fmt.Fprintln(b, "```")
		fmt.Fprintln(b, benchstat)
		fmt.Fprintln(b, "```")
	}
}

func (r *report) keycardOf(backend string) impl {
	if backend == "none" {
		return impl{"memory", "keycard"}
	}
	return impl{backend, "keycard"}
}

func (r *report) writeInProcess(b *strings.Builder) {
	counts := 0
	for _, ss := range r.bench["read"] {
		counts = max(counts, len(ss))
	}
	fmt.Fprintln(b, "## In process")
	fmt.Fprintln(b)
	fmt.Fprintf(b, "One request per iteration through `http.ServeMux` and the library's middleware, in process, with a fresh request and a one-cookie jar each time (`go test -bench`, medians of %d runs; each run passes over every benchmark once, so the runs interleave the implementations in time). \"Added over bare\" is the median over runs of the difference with the bare handler in the same run; \"× Keycard\" is the median over runs of the ratio to Keycard with the same kind of backend (memory, cookie, SQLite, Redis). Round trips are store calls (memory and SQLite stores, counted by a wrapper) or Redis commands sent by the client (private redis-server, MONITOR); \"w\" counts the writes among them. ± is the half-range of the middle 80%% of the runs.\n\n", counts)
	for _, p := range paths {
		if r.bench[p] == nil {
			continue
		}
		bareImpl := impl{"none", "bare"}
		fmt.Fprintf(b, "### %s\n\n", pathDoc[p])
		fmt.Fprintln(b, "| implementation | time/op | B/op | allocs/op | added over bare | × Keycard | round trips (w) |")
		fmt.Fprintln(b, "|---|---|---|---|---|---|---|")
		for _, o := range implOrder {
			ns, ok := r.stat(p, o.impl, "ns/op")
			if !ok {
				continue
			}
			bytes, _ := r.stat(p, o.impl, "B/op")
			allocs, _ := r.stat(p, o.impl, "allocs/op")
			added := "—"
			if d, ok := r.diff(p, o.impl, bareImpl, "ns/op"); ok && o.lib != "bare" {
				da, _ := r.diff(p, o.impl, bareImpl, "allocs/op")
				added = fmt.Sprintf("+%s, +%.0f allocs", dur(d), da)
			}
			ratio := "—"
			if v, ok := r.ratio(p, o.impl, r.keycardOf(o.backend), "ns/op"); ok && o.lib != "bare" && o.lib != "bare-headers" {
				ratio = fmt.Sprintf("%.2f×", v)
			}
			rt := "—"
			if v, ok := r.stat(p, o.impl, "roundtrips/op"); ok {
				w, _ := r.stat(p, o.impl, "writes/op")
				rt = fmt.Sprintf("%s (%s w)", trim(v), trim(w))
			}
			fmt.Fprintf(b, "| %s | %s ± %.0f%% | %.0f | %.0f | %s | %s | %s |\n",
				o.name, dur(ns), 100*r.spread(p, o.impl), bytes, allocs, added, ratio, rt)
		}
		fmt.Fprintln(b)
	}
}

func trim(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// workloads lists run.sh's HTTP workloads in table order.
var workloads = []struct {
	name, doc string
	write     bool
}{
	{"read-spread", "read, a session per connection: `GET /read`, each connection on a logged-in session of its own", false},
	{"read-hot", "read, one hot session: `GET /read`, every connection on one logged-in session", false},
	{"write-spread", "write, a session per connection: `GET /write` (Keycard: atomic `Update`; peers: read-modify-write)", true},
	{"write-hot", "write, one hot session: `GET /write`, every connection incrementing one session's counter at once", true},
	{"write-hot-2", "write, one hot session over two instances on one Redis: `GET /write` as in the hot write, the connections alternating between two processes of the server that share its key prefix, so their compare-and-sets conflict across processes (keycard-redis only; CPU/request sums both processes)", true},
	{"login", "renew: `GET /login` with a logged-in session (new ID, old record deleted), a session per connection", false},
}

// lost sums a workload's lost and acknowledged increments over its rounds.
func (r *report) lost(server, workload string) (lost, acked int, ok bool) {
	for _, run := range r.http[server+":"+workload] {
		if run.Lost != nil {
			lost += *run.Lost
			acked += run.Acked
			ok = true
		}
	}
	return lost, acked, ok
}

// errors sums a workload's requests answered with another status than 200.
func (r *report) errors(server, workload string) (errs, reqs int) {
	for _, run := range r.http[server+":"+workload] {
		errs += run.Errors
		reqs += run.Requests
	}
	return errs, reqs
}

func (r *report) writeHTTP(b *strings.Builder) {
	rounds := 0
	for _, runs := range r.http {
		rounds = max(rounds, len(runs))
	}
	fmt.Fprintln(b, "## Over HTTP on loopback")
	fmt.Fprintln(b)
	fmt.Fprintf(b, "Each server is its own process on 127.0.0.1, driven by `bench/cmd/loadgen` (closed loop, keep-alive connections; see the machine section for the connections, the pinning and the run lengths). Medians over %d rounds; each round starts every server afresh, then visits every workload and, within it, every server in turn, so slow phases of the machine hit all of them, and the ratios are medians of the ratios within each round. \"Server CPU/request\" is the server process's CPU time (user and system, from /proc) over the measured requests, Redis's not included: a busy machine inflates it less than it cuts a server's rate. \"vs bare\" is the share of the bare handler's rate (on the row of bare + the cache headers, whose `/read` and `/write` answers carry `Vary: Cookie` and `Cache-Control: no-store` as a session library's personal responses must, it shows what those two headers cost), \"vs bare+GET\" the share of the bare handler's plus one Redis GET (Redis rows, reads); \"Keycard ÷\" divides Keycard's rate (same backend) by the row's. \"Lost updates\" counts, over all rounds, the increments the server acknowledged with 200 that the session did not keep (one more `/write` per session reads the counter after each run); \"errors\" the requests answered with another status.\n\n", rounds)
	for _, w := range workloads {
		have := false
		for _, s := range serverOrder {
			if _, ok := r.httpStat(s.name, w.name, func(x Run) float64 { return x.RPS }); ok {
				have = true
			}
		}
		if !have {
			continue
		}
		fmt.Fprintf(b, "### %s\n\n", w.doc)
		header := "| server | requests/s | p50 | p99 | server CPU/request | vs bare | vs bare+GET | Keycard ÷ | errors |"
		rule := "|---|---|---|---|---|---|---|---|---|"
		if w.write {
			header += " lost updates |"
			rule += "---|"
		}
		fmt.Fprintln(b, header)
		fmt.Fprintln(b, rule)
		for _, s := range serverOrder {
			rps, ok := r.httpStat(s.name, w.name, func(x Run) float64 { return x.RPS })
			if !ok {
				continue
			}
			p50, _ := r.httpStat(s.name, w.name, func(x Run) float64 { return x.P50 })
			p99, _ := r.httpStat(s.name, w.name, func(x Run) float64 { return x.P99 })
			vs, floor, ratio := "—", "—", "—"
			if v, ok := r.httpRatio(s.name, "bare", w.name); ok && s.name != "bare" {
				vs = fmt.Sprintf("%.0f%%", 100*v)
			}
			if v, ok := r.httpRatio(s.name, "bare-redisget", w.name); ok && s.backend == "redis" && s.name != "bare-redisget" && s.name != "bare-context-redisget" {
				floor = fmt.Sprintf("%.0f%%", 100*v)
			}
			if k := keycardServer(s.backend); k != "" && !strings.HasPrefix(s.name, "keycard") && !strings.HasPrefix(s.name, "bare") {
				if v, ok := r.httpRatio(k, s.name, w.name); ok {
					ratio = fmt.Sprintf("%.2f×", v)
				}
			}
			errs, reqs := r.errors(s.name, w.name)
			errCell := "0"
			if errs > 0 {
				errCell = fmt.Sprintf("**%d** of %d", errs, reqs)
			}
			cpu := "—"
			if v, ok := r.httpStat(s.name, w.name, func(x Run) float64 { return x.CPU }); ok && v > 0 {
				cpu = fmt.Sprintf("%.1f µs", v)
			}
			fmt.Fprintf(b, "| %s | %.0f | %s | %s | %s | %s | %s | %s | %s |", s.label, rps, dur(p50*1e3), dur(p99*1e3), cpu, vs, floor, ratio, errCell)
			if w.write {
				cell := "—"
				if lost, acked, ok := r.lost(s.name, w.name); ok && !strings.HasPrefix(s.name, "bare") {
					cell = fmt.Sprintf("%d of %d", lost, acked)
					if lost > 0 {
						cell = fmt.Sprintf("**%d** of %d (%.1f%%)", lost, acked, 100*float64(lost)/float64(max(acked, 1)))
					}
				}
				fmt.Fprintf(b, " %s |", cell)
			}
			fmt.Fprintln(b)
		}
		fmt.Fprintln(b)
	}
}

func keycardServer(backend string) string {
	switch backend {
	case "memory":
		return "keycard-memory"
	case "sqlite":
		return "keycard-sqlite"
	case "redis":
		return "keycard-redis"
	}
	return ""
}

// writeRoundTrips tabulates the store round trips per request.
func (r *report) writeRoundTrips(b *strings.Builder) {
	if r.rtt == nil && r.bench == nil {
		return
	}
	fmt.Fprintln(b, "## Store round trips per request")
	fmt.Fprintln(b)
	fmt.Fprintln(b, "Redis: the commands each server's client sent, per request, counted on a private redis-server's MONITOR stream over 200 sequential requests after a warm-up (commands run inside Lua scripts are not counted; per-connection setup such as HELLO is not counted). None of these clients pipelines on these paths, so each command is one round trip. Memory and SQLite stores: calls into the store, counted in process by a wrapper (in-process benchmarks). Cookie stores make none.")
	fmt.Fprintln(b)
	fmt.Fprintln(b, "| implementation | new session | read | write | renew (login) |")
	fmt.Fprintln(b, "|---|---|---|---|---|")
	for _, row := range []struct{ label, server string }{
		{"**Keycard**, Redis", "keycard-redis"},
		{"scs, Redis (goredisstore)", "scs-redis"},
		{"gorilla, Redis (boj/redistore)", "gorilla-redis"},
		{"express-session, connect-redis", "express-redis"},
	} {
		cells := []string{row.label}
		have := false
		for _, p := range paths {
			runs := r.rtt[row.server+":"+p]
			if len(runs) == 0 || runs[len(runs)-1].Redis == nil {
				cells = append(cells, "—")
				continue
			}
			have = true
			cells = append(cells, commands(runs[len(runs)-1].Redis))
		}
		if have {
			fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	for _, row := range []struct {
		label string
		impl
	}{
		{"**Keycard**, memory store", impl{"memory", "keycard"}},
		{"scs, memstore", impl{"memory", "scs"}},
		{"**Keycard**, SQLite", impl{"sqlite", "keycard"}},
		{"scs, SQLite (sqlite3store)", impl{"sqlite", "scs"}},
	} {
		cells := []string{row.label}
		have := false
		for _, p := range paths {
			v, ok := r.stat(p, row.impl, "roundtrips/op")
			if !ok {
				cells = append(cells, "—")
				continue
			}
			have = true
			w, _ := r.stat(p, row.impl, "writes/op")
			cells = append(cells, fmt.Sprintf("%s calls, %s writes", trim(v), trim(w)))
		}
		if have {
			fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	fmt.Fprintln(b)
}

// commands formats per-request command counts: "2: GET, EVALSHA".
func commands(m map[string]float64) string {
	names := make([]string, 0, len(m))
	total := 0.0
	writes := 0.0
	for k, v := range m {
		if v < 0.05 {
			continue // a once-per-run event, such as loading a script
		}
		names = append(names, k)
		total += v
		if writes_(k) {
			writes += v
		}
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		v := m[k]
		if v > 1.05 || v < 0.95 {
			parts[i] = fmt.Sprintf("%s ×%s", strings.ToUpper(k), strconv.FormatFloat(v, 'f', 2, 64))
		} else {
			parts[i] = strings.ToUpper(k)
		}
	}
	return fmt.Sprintf("**%s** (%s w): %s", strconv.FormatFloat(total, 'f', -1, 64), strconv.FormatFloat(writes, 'f', -1, 64), strings.Join(parts, ", "))
}

func writes_(name string) bool {
	switch name {
	case "get", "mget", "ping", "zrange", "exists", "ttl", "pttl", "scan", "echo":
		return false
	}
	return true
}

func (r *report) writeMem(b *strings.Builder) {
	if len(r.mem) == 0 {
		return
	}
	fmt.Fprintln(b, "### Redis memory per session, by implementation")
	fmt.Fprintln(b)
	fmt.Fprintln(b, "Sessions created over HTTP (`GET /login` without a cookie) into the private Redis; used_memory's growth divided by the sessions, and MEMORY USAGE of one session key. Keycard's figure includes its per-user index (here every session has the same user, so the index is one sorted set).")
	fmt.Fprintln(b)
	fmt.Fprintln(b, "| implementation | sessions | used_memory per session | one key (MEMORY USAGE) |")
	fmt.Fprintln(b, "|---|---|---|---|")
	for _, s := range []struct{ name, label string }{
		{"keycard-redis", "**Keycard**, Redis"},
		{"scs-redis", "scs, Redis"},
		{"gorilla-redis", "gorilla, Redis"},
		{"express-redis", "express-session, connect-redis"},
	} {
		m, ok := r.mem[s.name]
		if !ok {
			continue
		}
		fmt.Fprintf(b, "| %s | %d | %.0f B | %d B |\n", s.label, m.Sessions, m.Bytes, m.KeyBytes)
	}
	fmt.Fprintln(b)
}

// writeTargets checks the targets against this run.
func (r *report) writeTargets(b *strings.Builder) {
	type row struct{ target, measured, verdict string }
	var rows []row
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	mem, red := impl{"memory", "keycard"}, impl{"redis", "keycard"}
	bare := impl{"none", "bare"}
	if r.bench != nil {
		for _, t := range []struct {
			path  string
			limit float64
		}{{"read", 1500}, {"write", 2500}} {
			if d, ok := r.diff(t.path, mem, bare, "ns/op"); ok {
				da, _ := r.diff(t.path, mem, bare, "allocs/op")
				rows = append(rows, row{
					fmt.Sprintf("in process, Keycard memory %s adds ≤ %s over bare", t.path, dur(t.limit)),
					fmt.Sprintf("+%s, +%.0f allocs", dur(d), da),
					verdict(d <= t.limit),
				})
			}
		}
		for _, peer := range []impl{{"memory", "scs"}, {"cookie", "gorilla"}} {
			if d, ok := r.diff("read", peer, bare, "ns/op"); ok {
				da, _ := r.diff("read", peer, bare, "allocs/op")
				rows = append(rows, row{
					fmt.Sprintf("(reference) %s/%s read over bare: issue says ~13 µs (scs) / ~10 µs (gorilla), ~200 allocs", peer.lib, peer.backend),
					fmt.Sprintf("+%s, +%.0f allocs", dur(d), da), "—",
				})
			}
		}
		if v, ok := r.ratio("read", red, impl{"redis", "bare+get"}, "ns/op"); ok {
			d, _ := r.diff("read", red, impl{"redis", "bare+get"}, "ns/op")
			rows = append(rows, row{
				"in process, Keycard Redis read ≤ 1.10 × (bare + one Redis GET)",
				fmt.Sprintf("%.2f× (+%s)", v, dur(d)),
				verdict(v <= 1.10),
			})
		}
		if rt, ok := r.stat("read", mem, "roundtrips/op"); ok {
			w, _ := r.stat("read", mem, "writes/op")
			rows = append(rows, row{"read path: 1 round trip, 0 writes (memory store)", fmt.Sprintf("%s, %s", trim(rt), trim(w)), verdict(rt == 1 && w == 0)})
		}
	}
	if runs := r.rtt["keycard-redis:read"]; len(runs) > 0 && runs[len(runs)-1].Redis != nil {
		m := runs[len(runs)-1].Redis
		total, w := 0.0, 0.0
		for k, v := range m {
			total += v
			if writes_(k) {
				w += v
			}
		}
		rows = append(rows, row{"read path: 1 round trip, 0 writes (Redis)", commands(m), verdict(total == 1 && w == 0)})
	}
	for _, n := range []string{"new", "login"} {
		runs := r.rtt["keycard-redis:"+n]
		if len(runs) == 0 || runs[len(runs)-1].Redis == nil {
			continue
		}
		m := runs[len(runs)-1].Redis
		scripts, other := 0.0, 0.0
		for k, v := range m {
			switch {
			case v < 0.05: // a once-per-run event, such as loading a script
			case k == "evalsha" || k == "eval":
				scripts += v
			case k != "get":
				other += v
			}
		}
		if n == "new" {
			rows = append(rows, row{"Redis: a new session is one round trip", commands(m), verdict(scripts <= 1 && other == 0 && m["get"] < 0.05)})
		} else {
			rows = append(rows, row{"Redis: a renewal is one round trip per Save (the new ID, the old ID's marker) after its load", commands(m), verdict(scripts <= 2 && other == 0)})
		}
	}
	// The hot-session targets: throughput at least the peer's,
	// p99 at most twice the peer's, no lost update.
	for _, t := range []struct{ label, keycard, peer string }{
		{"Redis", "keycard-redis", "scs-redis"},
		{"memory", "keycard-memory", "scs-memory"},
		{"SQLite", "keycard-sqlite", "scs-sqlite"},
	} {
		if v, ok := r.httpRatio(t.keycard, t.peer, "write-hot"); ok {
			rows = append(rows, row{fmt.Sprintf("hot session, %s: write throughput ≥ %s's", t.label, t.peer), fmt.Sprintf("%.2f×", v), verdict(v >= 1)})
		}
		kp, ok1 := r.httpStat(t.keycard, "write-hot", func(x Run) float64 { return x.P99 })
		pp, ok2 := r.httpStat(t.peer, "write-hot", func(x Run) float64 { return x.P99 })
		if ok1 && ok2 && pp > 0 {
			rows = append(rows, row{fmt.Sprintf("hot session, %s: write p99 ≤ 2 × %s's", t.label, t.peer), fmt.Sprintf("%s against %s (%.2f×)", dur(kp*1e3), dur(pp*1e3), kp/pp), verdict(kp <= 2*pp)})
		}
		if lost, acked, ok := r.lost(t.keycard, "write-hot"); ok {
			measured := fmt.Sprintf("%d of %d lost", lost, acked)
			if pl, pa, ok := r.lost(t.peer, "write-hot"); ok {
				measured += fmt.Sprintf(" (%s: %d of %d)", t.peer, pl, pa)
			}
			rows = append(rows, row{fmt.Sprintf("hot session, %s: no lost update", t.label), measured, verdict(lost == 0)})
		}
	}
	// The same read targets by server CPU per request: the rate a server
	// would reach on a core of its own, which a busy machine blurs less.
	cpuRatio := func(a, b, w string) (float64, bool) {
		ca, ok1 := r.httpStat(a, w, func(x Run) float64 { return x.CPU })
		cb, ok2 := r.httpStat(b, w, func(x Run) float64 { return x.CPU })
		return cb / ca, ok1 && ok2 && ca > 0 && cb > 0
	}
	for _, w := range []string{"read-hot", "read-spread"} {
		if v, ok := cpuRatio("keycard-memory", "bare", w); ok {
			rows = append(rows, row{"server CPU, " + w + ": Keycard memory costs ≤ 1/0.9 of bare's (rate ≥ 90%)", fmt.Sprintf("%.0f%%", 100*v), verdict(v >= 0.90)})
		}
		if v, ok := cpuRatio("keycard-memory", "bare-headers", w); ok {
			rows = append(rows, row{"(reference, not the target) server CPU, " + w + ": Keycard memory as a share of bare with the cache headers (bare-headers: Vary: Cookie, Cache-Control: no-store)", fmt.Sprintf("%.0f%%", 100*v), "—"})
		}
		if v, ok := cpuRatio("keycard-redis", "bare-redisget", w); ok {
			rows = append(rows, row{"server CPU, " + w + ": Keycard Redis costs ≤ 1/0.9 of bare + one GET's", fmt.Sprintf("%.0f%%", 100*v), verdict(v >= 0.90)})
		}
		if v, ok := cpuRatio("keycard-redis", "scs-redis", w); ok {
			rows = append(rows, row{"server CPU, " + w + ": Keycard Redis costs ≤ 1/1.5 of scs Redis's", fmt.Sprintf("%.2f×", v), verdict(v >= 1.5)})
		}
	}
	for _, w := range []string{"read-hot", "read-spread"} {
		if v, ok := r.httpRatio("keycard-memory", "bare", w); ok {
			rows = append(rows, row{"HTTP " + w + ": Keycard memory reads ≥ 90% of bare's rate", fmt.Sprintf("%.0f%%", 100*v), verdict(v >= 0.90)})
		}
		if v, ok := r.httpRatio("keycard-memory", "bare-headers", w); ok {
			rows = append(rows, row{"(reference, not the target) HTTP " + w + ": Keycard memory reads as a share of the rate of bare with the cache headers (bare-headers: Vary: Cookie, Cache-Control: no-store)", fmt.Sprintf("%.0f%%", 100*v), "—"})
		}
		if v, ok := r.httpRatio("bare-context", "bare", w); ok {
			rows = append(rows, row{"(reference, not the target) HTTP " + w + ": a middleware that only sets the cache headers and carries 512 B of per-request state in the context (bare-context), as a share of bare's rate", fmt.Sprintf("%.0f%%", 100*v), "—"})
		}
		if v, ok := r.httpRatio("keycard-memory", "bare-context", w); ok {
			rows = append(rows, row{"(reference, not the target) HTTP " + w + ": Keycard memory reads as a share of bare-context's rate", fmt.Sprintf("%.0f%%", 100*v), "—"})
		}
		if v, ok := r.httpRatio("keycard-redis", "bare-redisget", w); ok {
			rows = append(rows, row{"HTTP " + w + ": Keycard Redis reads ≥ 90% of bare + one GET", fmt.Sprintf("%.0f%%", 100*v), verdict(v >= 0.90)})
		}
		if v, ok := r.httpRatio("bare-context-redisget", "bare-redisget", w); ok {
			rows = append(rows, row{"(reference, not the target) HTTP " + w + ": bare-context's middleware and headers on bare + one GET (bare-context-redisget), as a share of bare + one GET's rate", fmt.Sprintf("%.0f%%", 100*v), "—"})
		}
		if v, ok := r.httpRatio("keycard-redis", "bare-context-redisget", w); ok {
			rows = append(rows, row{"(reference, not the target) HTTP " + w + ": Keycard Redis reads as a share of bare-context-redisget's rate", fmt.Sprintf("%.0f%%", 100*v), "—"})
		}
		if v, ok := r.httpRatio("keycard-redis", "scs-redis", w); ok {
			rows = append(rows, row{"HTTP " + w + ": Keycard Redis reads ≥ 1.5 × scs Redis", fmt.Sprintf("%.2f×", v), verdict(v >= 1.5)})
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(b, "## Targets")
	fmt.Fprintln(b)
	fmt.Fprintln(b, "| target | this run | |")
	fmt.Fprintln(b, "|---|---|---|")
	for _, x := range rows {
		fmt.Fprintf(b, "| %s | %s | %s |\n", x.target, x.measured, x.verdict)
	}
	fmt.Fprintln(b)
}
