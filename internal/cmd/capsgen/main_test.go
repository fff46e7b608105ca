package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// generateLine finds a wrapper's go:generate line for capsgen.
var generateLine = regexp.MustCompile(`(?m)^//go:generate go run github.com/keycard-go/keycard/internal/cmd/capsgen (.*)$`)

// TestGeneratedFilesAreCurrent: every wrapper that runs capsgen holds
// exactly the files capsgen writes from its go:generate line, so a
// capability added here, or a generated file edited by hand, is caught.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	wrappers, err := filepath.Glob("../../../contrib/*/store.go")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, path := range wrappers {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := generateLine.FindSubmatch(src)
		if m == nil {
			continue
		}
		found++
		files, err := generate(strings.Fields(string(m[1])))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(filepath.Dir(path), name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is not what capsgen writes; run go generate in %s", name, filepath.Dir(path))
			}
		}
	}
	if found < 2 {
		t.Errorf("found %d wrappers that run capsgen, want the Prometheus and otel ones", found)
	}
}

// TestSkipAndPrefix: -skip leaves a capability out of both files, and
// -prefix names the part types.
func TestSkipAndPrefix(t *testing.T) {
	files, err := generate([]string{"-pkg", "w", "-prefix", "wrapped", "-skip", "NonBlocking,Closer"})
	if err != nil {
		t.Fatal(err)
	}
	wrapper, inner := string(files["caps_gen.go"]), string(files["caps_gen_test.go"])
	for _, want := range []string{"package w\n", "*wrappedStore\n", "*wrappedBatcher", "case 31: // UserIndex+Sweeper+Scanner+Counter+Batcher"} {
		if !strings.Contains(wrapper, want) {
			t.Errorf("caps_gen.go lacks %q", want)
		}
	}
	for _, absent := range []string{"NonBlocking", "Closer", "case 32"} {
		if strings.Contains(wrapper+inner, absent) {
			t.Errorf("a skipped capability shows: %q", absent)
		}
	}
	if strings.Contains(inner, `"io"`) {
		t.Error(`caps_gen_test.go imports "io" with io.Closer skipped`)
	}
}

// TestUsage: a missing flag or a stray argument is a usage error.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"-pkg", "w"}, {"-prefix", "t"}, {"-pkg", "w", "-prefix", "t", "extra"}, {"-bogus"}} {
		if _, err := generate(args); err == nil {
			t.Errorf("capsgen %q: no error", args)
		}
	}
}
