package reliability_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/sqlite"
)

// The SQLite kill test runs the test binary again as a child process,
// which TestMain turns into a writer when these variables are set.
const (
	childEnv = "KEYCARD_RELIABILITY_CHILD" // "sqlite-writer"
	pathEnv  = "KEYCARD_RELIABILITY_PATH"  // the database file
	keyEnv   = "KEYCARD_RELIABILITY_KEY"   // the Manager's key, in hex
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "sqlite-writer" {
		if err := sqliteWriter(os.Getenv(pathEnv), os.Getenv(keyEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// sqliteWriter serves writes through a Manager over the SQLite file at
// path, from four goroutines, until it is killed: each goroutine creates a
// session with one value, then adds three more values to it, and prints
// "cookie key value" on a line of its own, in one write(2), once the
// request that wrote it was answered 200, and only then.
func sqliteWriter(path, keyHex string) error {
	key, err := hex.DecodeString(keyHex)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(path, sqlite.Config{})
	if err != nil {
		return err
	}
	m, err := keycard.New(keycard.Config{Store: st, Keys: []keycard.Key{key}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	h := m.Handler(routes(m))
	var mu sync.Mutex
	errc := make(chan error, 4)
	for g := range 4 {
		go func() {
			for n := 0; ; n++ {
				cookie := ""
				for i := range 4 {
					k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("g%d-n%d-v%d", g, n, i)
					res := serve(context.Background(), h, cookie, "/put?"+url.Values{"k": {k}, "v": {v}}.Encode())
					if res.code != 200 {
						errc <- fmt.Errorf("writer: %v", res)
						return
					}
					if res.cookie != "" {
						cookie = res.cookie
					}
					mu.Lock()
					_, err := fmt.Fprintf(os.Stdout, "%s %s %s\n", cookie, k, v)
					mu.Unlock()
					if err != nil {
						errc <- err
						return
					}
				}
			}
		}()
	}
	return <-errc
}

// TestSQLiteKilledMidWriteKeepsAcknowledgedSessions runs a child process
// that writes sessions through a Manager over an SQLite file, kills it
// with SIGKILL while it writes, three times over on the same file, and
// after each kill reopens the file: integrity_check must pass and every
// value whose request was answered 200 must read back through a new
// Manager with the same key, by the cookie the child was given.
//
// The store's own test of the same fault, at the store.Store level
// without a Manager, is TestAcknowledgedWritesSurviveKill in store/sqlite.
func TestSQLiteKilledMidWriteKeepsAcknowledgedSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	key := keycard.NewKey()
	var acked []string
	for round := range 3 {
		lines := writeAndKill(t, path, key, 100*(round+1))
		acked = append(acked, lines...)
		figure(t, fmt.Sprintf("round %d: acknowledged writes before SIGKILL", round), "%d", len(lines))
		checkSQLiteAfterKill(t, path, key, acked)
	}
	figure(t, "acknowledged writes lost", "0 of %d", len(acked))
}

// writeAndKill runs the writer on path until it acknowledged at least min
// writes and 300 ms passed, kills it, and returns every line it printed.
func writeAndKill(t *testing.T, path string, key keycard.Key, min int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=sqlite-writer", pathEnv+"="+path, keyEnv+"="+hex.EncodeToString(key))
	cmd.SysProcAttr = dieWithParent()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var got []string
	keep := func(line string) {
		if len(strings.Fields(line)) == 3 { // a whole line
			got = append(got, line)
		}
	}
	start, limit := time.Now(), time.After(2*time.Minute) // a guard against a stuck writer
read:
	for len(got) < min || time.Since(start) < 300*time.Millisecond {
		select {
		case line, ok := <-lines:
			if !ok {
				break read
			}
			keep(line)
		case <-limit:
			break read
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for line := range lines {
		keep(line)
	}
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); !ok || !ws.Signaled() {
		t.Fatalf("the writer ended before it was killed: %s", stderr.Bytes())
	}
	if len(got) < min {
		t.Fatalf("the writer acknowledged %d writes in 2 minutes, want %d: %s", len(got), min, stderr.Bytes())
	}
	return got
}

// checkSQLiteAfterKill checks the file's integrity and reads every
// acknowledged value back through a Manager.
func checkSQLiteAfterKill(t *testing.T, path string, key keycard.Key, acked []string) {
	t.Helper()
	db, err := sql.Open("sqlite", sqlite.DSN(path, sqlite.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check after SIGKILL: %q, %v", ok, err)
	}
	st, err := sqlite.New(db, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := newApp(t, st, key, nil)
	lost := 0
	for _, line := range acked {
		f := strings.Fields(line)
		res := serve(context.Background(), a.h, f[0], "/get?k="+f[1])
		if res.code != 200 || res.body != f[2] {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged write %s=%s: got %v", f[1], f[2], res)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("lost %d of %d acknowledged writes", lost, len(acked))
	}
}
