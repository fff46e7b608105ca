package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keycard-go/keycard/cmd/keycard/internal/storeurl"
	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"keycard": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the transcripts in testdata/*.txt. Besides the
// standard commands they have:
//
//	exits N PROGRAM ARGS...  runs the program and checks its exit code
//	seed STORE SPEC...       stores sessions in STORE, an SQLite database
//	                         file or a store URL: USER (signed in), USER+r
//	                         (remembered), - (anonymous), expired; sets
//	                         $HASH1, $HASH2... to their hashes
//
//	freshdb SERVER VAR       makes a PostgreSQL schema, or a MySQL, Redis or
//	                         MongoDB database, of the script's own, and
//	                         sets VAR to its store URL
//	corrupt DBFILE           corrupts an SQLite database
//
// the conditions [scanner:sqlite] (the SQLite store can list all its
// sessions), [root] (running as root, whom file modes do not stop),
// [postgres], [mysql], [redis], [memcached] and [mongodb] (the test server
// answers; under CI=true it must) and the variables $CLOSEDPORT (a port of 127.0.0.1 nothing
// listens on), $BUSYPORT (one that is taken) and $MEMCACHED (the test
// memcached's store URL).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			closed, err := freePort()
			if err != nil {
				return err
			}
			busy, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			env.Defer(func() { busy.Close() })
			env.Setenv("CLOSEDPORT", strconv.Itoa(closed))
			env.Setenv("BUSYPORT", strconv.Itoa(busy.Addr().(*net.TCPAddr).Port))
			env.Setenv("MEMCACHED", memcachedURL())
			for _, v := range []string{"KEYCARD_STORE", "KEYCARD_KEYS_FILE", "KEYCARD_DATA", "KEYCARD_ADDR"} {
				env.Setenv(v, "")
			}
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "scanner:sqlite":
				_, ok := any((*sqlite.Store)(nil)).(store.Scanner)
				return ok, nil
			case "root":
				return os.Geteuid() == 0, nil
			}
			return serverCondition(cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":   cmdExits,
			"seed":    cmdSeed,
			"freshdb": cmdFreshDB,
			"corrupt": cmdCorrupt,
		},
	})
}

// freePort returns a port of 127.0.0.1 that nothing listens on.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}

func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROGRAM ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

func cmdSeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: seed STORE SPEC...")
	}
	raw := args[0]
	if !strings.Contains(raw, "://") {
		raw = "sqlite:" + ts.MkAbs(raw)
	}
	u, err := storeurl.Parse(raw)
	ts.Check(err)
	ctx := context.Background()
	h, err := storeurl.Open(ctx, u, storeurl.Options{Migrate: true})
	ts.Check(err)
	defer h.Close()
	now := time.Now()
	for i, spec := range args[1:] {
		sum := sha256.Sum256([]byte(fmt.Sprintf("seed %d %s %d", i, spec, now.UnixNano())))
		key := hex.EncodeToString(sum[:])
		rec := &store.Record{Created: now, LastSeen: now, Expires: now.Add(30 * time.Minute), Deadline: now.Add(8 * time.Hour),
			IP: "127.0.0.1", UserAgent: "seed/1.0"}
		switch user, remembered := strings.CutSuffix(spec, "+r"); {
		case spec == "-":
		case spec == "expired":
			rec.Created, rec.LastSeen = now.Add(-time.Hour), now.Add(-time.Hour)
			rec.Expires = now.Add(-time.Millisecond)
		default:
			rec.UserID, rec.AuthTime, rec.Persistent = user, now, remembered
		}
		if spec == "expired" {
			// An expired record cannot be saved; save it live, then let
			// it lapse.
			live := *rec
			live.Expires = now.Add(50 * time.Millisecond)
			ts.Check(h.Store.Save(ctx, key, &live))
			time.Sleep(60 * time.Millisecond)
		} else {
			ts.Check(h.Store.Save(ctx, key, rec))
		}
		ts.Setenv(fmt.Sprintf("HASH%d", i+1), key)
	}
}
