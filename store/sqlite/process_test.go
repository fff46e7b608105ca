package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/sqlite"
)

// The tests in this file run the test binary again as a second process,
// which TestMain turns into a helper when these variables are set.
const (
	childEnv = "KEYCARD_SQLITE_TEST_CHILD" // "write" or "increment"
	pathEnv  = "KEYCARD_SQLITE_TEST_PATH"  // the database file
	keyEnv   = "KEYCARD_SQLITE_TEST_KEY"   // the counter's key, for "increment"
	countEnv = "KEYCARD_SQLITE_TEST_COUNT" // how many increments
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// busyGuard is the BusyTimeout of the stores that two processes share: a
// writer waits for the other process's lock for up to it, a guard rather
// than the default 5 s, which a loaded machine can keep a writer waiting.
const busyGuard = time.Minute

// runChild is the second process.
func runChild(mode string) error {
	s, err := sqlite.Open(os.Getenv(pathEnv), sqlite.Config{BusyTimeout: busyGuard})
	if err != nil {
		return err
	}
	defer s.Close()
	switch mode {
	case "write":
		return writeUntilKilled(s)
	case "increment":
		n, err := strconv.Atoi(os.Getenv(countEnv))
		if err != nil {
			return err
		}
		return increment(context.Background(), s, os.Getenv(keyEnv), n)
	}
	return fmt.Errorf("unknown child mode %q", mode)
}

// writeUntilKilled creates sessions from four goroutines until the process
// is killed, printing each session's key on a line of its own once Save
// has returned nil, and only then.
func writeUntilKilled(s *sqlite.Store) error {
	var mu sync.Mutex
	errc := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				key := newKey()
				if err := s.Save(context.Background(), key, crashRecord(key, time.Now())); err != nil {
					errc <- err
					return
				}
				mu.Lock()
				_, err := fmt.Fprintln(os.Stdout, key) // one write(2), unbuffered
				mu.Unlock()
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	return <-errc
}

// crashRecord returns the record saved under key by writeUntilKilled: its
// data is derived from the key, so a record that loads whole is the one
// saved.
func crashRecord(key string, now time.Time) *store.Record {
	return &store.Record{
		UserID: "crash", Created: now, LastSeen: now,
		Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour),
		Data: bytes.Repeat([]byte(key), 4),
	}
}

// increment adds one to the decimal counter in key's data n times, with
// read-modify-write loops that retry on ErrConflict.
func increment(ctx context.Context, s *sqlite.Store, key string, n int) error {
	for range n {
		for {
			rec, err := s.Load(ctx, key)
			if err != nil {
				return err
			}
			v, err := strconv.Atoi(string(rec.Data))
			if err != nil {
				return err
			}
			rec.Data = strconv.AppendInt(nil, int64(v+1), 10)
			err = s.Save(ctx, key, rec)
			if err == nil {
				break
			}
			if !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
	}
	return nil
}

func newKey() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// child returns a command that runs the test binary as a helper in mode.
func child(t *testing.T, mode string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{childEnv + "=" + mode}, env...)...)
	return cmd
}

func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	t.Parallel()
	path := filepath.Join(testDir(t), "crash.db")
	var acked []string
	for round := range 3 {
		keys := writeAndKill(t, path, 100*(round+1))
		t.Logf("round %d: the writer acknowledged %d saves before SIGKILL", round, len(keys))
		acked = append(acked, keys...)
		checkAfterCrash(t, path, acked)
	}
}

// writeAndKill runs a writer process on path, reads the keys it
// acknowledges until it has at least min of them and a little time has
// passed, kills it with SIGKILL while it is writing, and returns every key
// it acknowledged, including those still in the pipe.
func writeAndKill(t *testing.T, path string, min int) []string {
	cmd := child(t, "write", pathEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var keys []string
	collect := func(line string) {
		if len(line) == 64 { // a whole line: the writer prints nothing else
			keys = append(keys, line)
		}
	}
	start := time.Now()
	deadline := time.After(2 * time.Minute) // a guard against a stuck writer
	ended := false                          // the writer closed its output before it was killed
read:
	for len(keys) < min || time.Since(start) < 300*time.Millisecond {
		select {
		case line, ok := <-lines:
			if !ok {
				ended = true
				break read
			}
			collect(line)
		case <-deadline:
			break read
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	for line := range lines {
		collect(line)
	}
	err = cmd.Wait()
	if ended {
		t.Fatalf("writer ended by itself (%v) before it was killed: %s", err, stderr.Bytes())
	}
	if len(keys) < min {
		t.Fatalf("writer acknowledged %d saves in 2 minutes, want at least %d: %s", len(keys), min, stderr.Bytes())
	}
	return keys
}

// checkAfterCrash reopens path, checks the database's integrity and that
// every acknowledged key loads with the record saved under it.
func checkAfterCrash(t *testing.T, path string, acked []string) {
	t.Helper()
	if fi, err := os.Stat(path + "-wal"); err == nil {
		t.Logf("write-ahead log left by the killed writer: %d bytes", fi.Size())
	}
	db, err := sql.Open("sqlite", sqlite.DSN(path, sqlite.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&result); err != nil || result != "ok" {
		t.Fatalf("integrity_check: got %q, %v, want ok", result, err)
	}
	s, err := sqlite.New(db, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lost := 0
	for _, key := range acked {
		rec, err := s.Load(t.Context(), key)
		if err != nil {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged key %.8s…: Load: %v", key, err)
			}
			continue
		}
		if want := bytes.Repeat([]byte(key), 4); !bytes.Equal(rec.Data, want) || rec.Version != 1 {
			t.Errorf("acknowledged key %.8s…: got version %d and %d bytes of data, want version 1 and the saved data", key, rec.Version, len(rec.Data))
		}
	}
	if lost > 0 {
		t.Fatalf("lost %d of %d acknowledged saves", lost, len(acked))
	}
}

func TestTwoProcessesIncrementOneCounter(t *testing.T) {
	t.Parallel()
	const each = 100
	path := filepath.Join(testDir(t), "counter.db")
	s := openAt(t, path, sqlite.Config{BusyTimeout: busyGuard})
	key, now := newKey(), time.Now()
	if err := s.Save(t.Context(), key, &store.Record{Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour), Data: []byte("0")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	cmd := child(t, "increment", pathEnv+"="+path, keyEnv+"="+key, countEnv+"="+strconv.Itoa(each))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() }) // if a failure below returns early
	if err := increment(ctx, s, key, each); err != nil {
		t.Errorf("increments in this process: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("increments in the second process: %v: %s", err, out.Bytes())
	}
	rec, err := s.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(rec.Data), strconv.Itoa(2*each); got != want || rec.Version != 1+2*each {
		t.Errorf("got counter %s at version %d, want %s at version %d", got, rec.Version, want, 1+2*each)
	}
}

// openAt opens a store on path and closes it when the test ends.
func openAt(tb testing.TB, path string, cfg sqlite.Config) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(path, cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
