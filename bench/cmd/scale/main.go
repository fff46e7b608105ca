// Command scale measures how Keycard's stores behave with many sessions:
// memory per session, the time to load a million sessions, read latency
// once they are loaded, and what an expiry sweep costs as the number of
// live sessions grows. It prints Markdown tables.
//
//	scale -n 1000000 -redis 127.0.0.1:6390
//
// The records are those Keycard writes for the benchmark's logged-in
// session (user and counter values, a user agent), each with a user of its
// own. -redis should be a private redis-server: the tool loads -n sessions
// into it under a prefix of its own and deletes them afterwards.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2/memstore"
	"golang.org/x/sys/unix"

	"github.com/keycard-go/keycard/bench"
	"github.com/keycard-go/keycard/bench/internal/redisctl"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/keycard-go/keycard/store/sqlite"
)

func main() {
	n := flag.Int("n", 1_000_000, "sessions to load into each store")
	redisAddr := flag.String("redis", "", "a private Redis to load -n sessions into (skipped if empty)")
	sweepMax := flag.Int("sweep-max", 1_000_000, "the most live sessions of the memory store's sweep measurement")
	sqliteMax := flag.Int("sqlite-max", 100_000, "the most live sessions of the SQLite sweep measurement (0 skips it)")
	flag.Parse()
	runtime.LockOSThread() // for threadCPU
	log.SetFlags(0)
	log.SetPrefix("scale: ")

	rec := keycardRecord()
	fmt.Printf("Record: what Keycard stores for one logged-in benchmark session: %d bytes of values, a %d-byte user agent.\n\n",
		len(rec.Data), len(rec.UserAgent))

	fmt.Println("### Loading sessions, and memory per session")
	fmt.Println()
	fmt.Println("| store | sessions | time to load | sessions/s | memory per session | Load p50 (1,000 sessions → all) |")
	fmt.Println("|---|---|---|---|---|---|")
	loadMemory(rec, *n)
	loadSCSMemory(*n)
	if *redisAddr != "" {
		loadRedis(rec, *n, *redisAddr)
	}
	fmt.Println()

	fmt.Println("### Expiry sweep cost against live sessions")
	fmt.Println()
	fmt.Println("Each Sweep removes the same number of expired records while the number of live (unexpired) records grows; the memory store keeps per-shard expiry heaps and the SQL stores an index on expiry, so neither visits live records. Times are the CPU time of the sweeping thread (the machine is shared; waiting for a CPU is not work). SQLite's include its own engine, which runs on the calling thread; SQLite here is a file in the temporary directory, with the store's default settings.")
	fmt.Println()
	fmt.Println("| store | live sessions | expired removed | Sweep CPU time (median of 5) | per removed record | Sweep CPU time, nothing expired |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, live := range []int{0, 10_000, 100_000, 1_000_000} {
		if live > *sweepMax {
			break
		}
		sweepMemory(rec, live, 10_000)
	}
	if *sqliteMax > 0 {
		for _, live := range []int{0, 10_000, 100_000} {
			if live > *sqliteMax {
				break
			}
			sweepSQLite(rec, live, 1_000)
		}
	}
}

// keycardRecord returns the record Keycard saves for a benchmark login.
func keycardRecord() *store.Record {
	cap := &capture{Store: memory.New(memory.Config{})}
	impl, err := bench.NewKeycard("keycard-memory", cap)
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/login", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36")
	w := httptest.NewRecorder()
	impl.Handler.ServeHTTP(w, r)
	if w.Code != http.StatusOK || cap.rec == nil {
		log.Fatalf("login: status %d, record %v", w.Code, cap.rec)
	}
	rec := cap.rec.Clone()
	rec.Version = 0
	return rec
}

type capture struct {
	store.Store
	rec *store.Record
}

func (c *capture) Save(ctx context.Context, key string, rec *store.Record) error {
	c.rec = rec.Clone()
	return c.Store.Save(ctx, key, rec)
}

// key returns the store key of session i, as the Manager makes them.
func key(i int) string {
	sum := sha256.Sum256([]byte("session " + strconv.Itoa(i)))
	return hex.EncodeToString(sum[:])
}

// record returns session i's record: rec for a user of its own.
func record(rec *store.Record, i int, expires time.Time) *store.Record {
	r := *rec
	r.UserID = "user" + strconv.Itoa(i)
	r.Expires = expires
	if r.Deadline.Before(expires) {
		r.Deadline = expires.Add(time.Hour)
	}
	return &r
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns
// the elapsed time.
func parallel(n, workers int, fn func(i int) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		log.Fatal(err)
	}
	return time.Since(start)
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// loadP50 returns the median latency of loading sessions spread over the
// first n.
func loadP50(st store.Store, n int) time.Duration {
	ctx := context.Background()
	lat := make([]time.Duration, 2000)
	for j := range lat {
		k := key(j * 7919 % n)
		t0 := time.Now()
		if _, err := st.Load(ctx, k); err != nil {
			log.Fatal(err)
		}
		lat[j] = time.Since(t0)
	}
	slices.Sort(lat)
	return lat[len(lat)/2].Round(10 * time.Nanosecond)
}

// small is how many sessions the "nearly empty" latency is measured with.
const small = 1000

func row(name string, n int, d time.Duration, perSession string, p50 string) {
	fmt.Printf("| %s | %s | %.2f s | %s | %s | %s |\n", name, thousands(n), d.Seconds(),
		thousands(int(float64(n)/d.Seconds())), perSession, p50)
}

func loadMemory(rec *store.Record, n int) {
	ctx := context.Background()
	expires := time.Now().Add(time.Hour)
	h0 := heap()
	st := memory.New(memory.Config{MaxSessions: n})
	save := func(i int) error { return st.Save(ctx, key(i), record(rec, i, expires)) }
	d := parallel(small, runtime.GOMAXPROCS(0), save)
	emptyP50 := loadP50(st, small)
	d += parallel(n-small, runtime.GOMAXPROCS(0), func(i int) error { return save(small + i) })
	per := float64(heap()-h0) / float64(n)
	full := loadP50(st, n)
	row("Keycard memory", n, d, fmt.Sprintf("%.0f B (Go heap)", per), fmt.Sprintf("%v → %v", emptyP50, full))
	runtime.KeepAlive(st)
}

// loadSCSMemory loads scs's memstore with the bytes scs keeps for the same
// session (its gob encoding of the deadline and the two values).
func loadSCSMemory(n int) {
	ms := memstore.NewWithCleanupInterval(0)
	value := scsValue()
	h0 := heap()
	expiry := time.Now().Add(time.Hour)
	d := parallel(n, runtime.GOMAXPROCS(0), func(i int) error {
		return ms.Commit(key(i), append([]byte(nil), value...), expiry)
	})
	per := float64(heap()-h0) / float64(n)
	row("scs memstore", n, d, fmt.Sprintf("%.0f B (Go heap)", per), "")
	runtime.KeepAlive(ms)
}

// scsValue returns what scs commits for a benchmark login.
func scsValue() []byte {
	st := &scsCapture{MemStore: memstore.NewWithCleanupInterval(0)}
	impl := bench.NewSCS("scs-memory", st)
	w := httptest.NewRecorder()
	impl.Handler.ServeHTTP(w, httptest.NewRequest("GET", "/login", nil))
	if st.b == nil {
		log.Fatal("scs stored nothing")
	}
	return st.b
}

type scsCapture struct {
	*memstore.MemStore
	b []byte
}

func (c *scsCapture) Commit(token string, b []byte, expiry time.Time) error {
	c.b = append([]byte(nil), b...)
	return c.MemStore.Commit(token, b, expiry)
}

func loadRedis(rec *store.Record, n int, addr string) {
	ctl, err := redisctl.Dial(addr)
	if err != nil {
		log.Fatal(err)
	}
	defer ctl.Close()
	prefix := fmt.Sprintf("keycard-scale:%d:", time.Now().UnixNano())
	st, closeClient, err := bench.KeycardRedisStore(addr, prefix)
	if err != nil {
		log.Fatal(err)
	}
	defer closeClient()
	defer func() {
		if _, err := ctl.DeletePrefix(prefix); err != nil {
			log.Print(err)
		}
	}()
	ctx := context.Background()
	m0, err := ctl.UsedMemory()
	if err != nil {
		log.Fatal(err)
	}
	expires := time.Now().Add(time.Hour)
	save := func(i int) error { return st.Save(ctx, key(i), record(rec, i, expires)) }
	// rueidis pipelines the commands of concurrent callers on shared
	// connections, so many goroutines load it as many clients would.
	d := parallel(small, 128, save)
	emptyP50 := loadP50(st, small)
	d += parallel(n-small, 128, func(i int) error { return save(small + i) })
	m1, err := ctl.UsedMemory()
	if err != nil {
		log.Fatal(err)
	}
	usage, _ := ctl.Do("MEMORY", "USAGE", prefix+"s:"+key(0))
	per := float64(m1-m0) / float64(n)
	full := loadP50(st, n)
	row("Keycard Redis", n, d, fmt.Sprintf("%.0f B (used_memory; record key %v B, plus the user's index)", per, usage),
		fmt.Sprintf("%v → %v", emptyP50, full))
}

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

// sweepMemory measures Sweep on a memory store holding live sessions that
// do not expire and, each round, expired more that do.
func sweepMemory(rec *store.Record, live, expired int) {
	ctx := context.Background()
	var clk clock
	clk.set(time.Now())
	st := memory.New(memory.Config{Now: clk.now, MaxSessions: live + expired + 1})
	far := clk.now().Add(24 * time.Hour)
	parallel(live, runtime.GOMAXPROCS(0), func(i int) error {
		return st.Save(ctx, key(i), record(rec, i, far))
	})
	med, idle := sweepRounds(ctx, &clk, st, live, expired, func(i int, exp time.Time) error {
		return st.Save(ctx, key(live+i), record(rec, live+i, exp))
	})
	runtime.KeepAlive(st)
	fmt.Printf("| memory | %s | %s | %v | %v | %v |\n", thousands(live), thousands(expired), med, med/time.Duration(expired), idle)
}

// sweepRounds adds expired records, expires them, and times Sweep, five
// times, then times a Sweep with nothing to remove.
func sweepRounds(ctx context.Context, clk *clock, st store.Sweeper, live, expired int, add func(i int, exp time.Time) error) (median, idle time.Duration) {
	var times []time.Duration
	for round := range 5 {
		exp := clk.now().Add(time.Minute)
		for i := range expired {
			if err := add(round*expired+i, exp); err != nil {
				log.Fatal(err)
			}
		}
		clk.add(2 * time.Minute)
		runtime.GC() // so no collection of the setup's garbage lands in the sweep
		c0 := threadCPU()
		removed, err := st.Sweep(ctx)
		times = append(times, threadCPU()-c0)
		if err != nil {
			log.Fatal(err)
		}
		if removed != expired {
			log.Fatalf("sweep removed %d, want %d", removed, expired)
		}
	}
	slices.Sort(times)
	c0 := threadCPU()
	if _, err := st.Sweep(ctx); err != nil {
		log.Fatal(err)
	}
	return times[len(times)/2].Round(time.Microsecond), (threadCPU() - c0).Round(time.Microsecond)
}

// threadCPU returns the CPU time the calling goroutine's thread has used.
// Sweeps are timed by it, not by the wall clock, because the machine is
// shared: a sweep that waits for a CPU does no more work. The caller's
// goroutine is locked to its thread for the whole program.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// sweepSQLite measures Sweep on an SQLite store the same way.
func sweepSQLite(rec *store.Record, live, expired int) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "keycard-scale-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var clk clock
	clk.set(time.Now())
	st, err := sqlite.Open(filepath.Join(dir, "sessions.db"), sqlite.Config{Now: clk.now})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	far := clk.now().Add(24 * time.Hour)
	parallel(live, 4, func(i int) error {
		return st.Save(ctx, key(i), record(rec, i, far))
	})
	med, idle := sweepRounds(ctx, &clk, st, live, expired, func(i int, exp time.Time) error {
		return st.Save(ctx, key(live+i), record(rec, live+i, exp))
	})
	fmt.Printf("| SQLite | %s | %s | %v | %v | %v |\n", thousands(live), thousands(expired), med, med/time.Duration(expired), idle)
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
