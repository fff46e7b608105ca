package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestDemoCreatesDataDir checks that the demo creates its data directory
// when the directory's parent exists, privately, and its files in it.
func TestDemoCreatesDataDir(t *testing.T) {
	t.Setenv("KEYCARD_STORE", "")
	t.Setenv("KEYCARD_KEYS_FILE", "")
	t.Setenv("KEYCARD_DATA", "")
	data := filepath.Join(t.TempDir(), "new")
	_, banner, stop := startDemo(t, "--data", data)
	if code := stop(); code != 0 {
		t.Errorf("the demo exited with %d", code)
	}
	fi, err := os.Stat(data)
	if err != nil {
		t.Fatalf("the demo did not create its data directory: %v\n%s", err, banner)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v, want 0700", fi.Mode().Perm())
	}
	for _, name := range []string{"keycard-demo.db", "keycard-demo.keys"} {
		if _, err := os.Stat(filepath.Join(data, name)); err != nil {
			t.Errorf("no %s in the new data directory: %v", name, err)
		}
	}
}

// TestDemoRefusesDataDirWithoutParent checks that the demo creates no
// missing ancestors of its data directory, and fails before it creates
// anything else.
func TestDemoRefusesDataDirWithoutParent(t *testing.T) {
	t.Setenv("KEYCARD_STORE", "")
	t.Setenv("KEYCARD_KEYS_FILE", "")
	root := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"demo", "--addr", "127.0.0.1:0", "--data", filepath.Join(root, "a", "b")}, &stdout, &stderr)
	if code != exitUsage {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
	}
	if !strings.Contains(stderr.String(), "no directory "+filepath.Join(root, "a")+" to create it in") {
		t.Errorf("stderr does not name the missing parent:\n%s", stderr.String())
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("the demo created %v", entries)
	}
}

// TestListenError checks that each listen failure gets the hint of its
// cause.
func TestListenError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		hint string
	}{
		{syscall.EADDRINUSE, "is another server using that port?"},
		{syscall.EADDRNOTAVAIL, "is not an address of this machine"},
		{syscall.EACCES, "ports below 1024 need privileges"},
		{errors.New("something else"), ""},
	} {
		var ce *cliError
		if !errors.As(listenError("192.0.2.1:80", "--addr", tt.err), &ce) {
			t.Fatalf("%v: not a cliError", tt.err)
		}
		got := strings.Join(ce.hints, "")
		if tt.hint == "" && got != "" || !strings.Contains(got, tt.hint) {
			t.Errorf("%v: hint %q, want one with %q", tt.err, got, tt.hint)
		}
	}
}
