// Command peerserver serves the benchmark routes (see package bench) with
// a peer library, or with none, on a loopback address:
//
//	peerserver -impl bare -addr 127.0.0.1:8081
//	peerserver -impl bare-headers -addr 127.0.0.1:8084
//	peerserver -impl scs-redis -addr 127.0.0.1:8082 -redis 127.0.0.1:6379 -prefix bench:
//	peerserver -impl scs-sqlite -addr 127.0.0.1:8083 -sqlite /tmp/scs-sessions.db
//
// -impl is one of bare, bare-headers (bare whose /read and /write
// responses carry Vary: Cookie and Cache-Control: no-store), bare-context
// (bare-headers behind a middleware that carries 512 bytes of per-request
// state in the request's context), bare-redisget (bare plus one Redis GET
// per /read), bare-context-redisget (that behind bare-context's
// middleware, with the cache headers on /read), scs-memory,
// gorilla-cookie, scs-sqlite, scs-redis and gorilla-redis (and Keycard's
// own, for convenience; cmd/benchserver is Keycard's server). The
// Redis-backed ones use the server at -redis, with keys under -prefix. The
// SQLite-backed ones need -sqlite, the path of their database file, which
// they create (with its table) if need be; give each server a file of its
// own. It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/keycard-go/keycard/bench"
)

func main() {
	name := flag.String("impl", "bare", "implementation: "+strings.Join(bench.Names, ", "))
	addr := flag.String("addr", "127.0.0.1:8081", "loopback address to listen on")
	redis := flag.String("redis", "127.0.0.1:6379", "Redis address, for the Redis-backed implementations")
	prefix := flag.String("prefix", "peer-bench:", "Redis key prefix")
	sqlitePath := flag.String("sqlite", "", "SQLite database file, for the SQLite-backed implementations")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile of the whole run to this file at exit")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("peerserver: ")

	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		log.Fatalf("-addr %q: listen on a loopback address (127.0.0.1:PORT)", *addr)
	}
	impl, err := bench.New(*name, *redis, *prefix, *sqlitePath)
	if err != nil {
		log.Fatal(err)
	}
	defer impl.Close()
	srv := &http.Server{Addr: *addr, Handler: impl.Handler, ReadHeaderTimeout: 10 * time.Second}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("peerserver: %s on http://%s\n", impl.Name, l.Addr())
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer writeAllocs(*memProfile)
	}
	done := make(chan os.Signal, 1)
	signal.Notify(done, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
	}
}

// writeAllocs writes the allocations sampled since the start (pprof's
// allocs profile: alloc_space and alloc_objects by call stack) to name.
func writeAllocs(name string) {
	f, err := os.Create(name)
	if err != nil {
		log.Print(err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		log.Print(err)
	}
}
