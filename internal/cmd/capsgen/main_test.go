package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
	for _, want := range []string{"package w\n", "*wrappedStore\n", "*wrappedBatcher", "*wrappedLoader",
		"case 31: // UserIndex+Sweeper+Scanner+Counter+Batcher\n",
		"case 63: // UserIndex+Sweeper+Scanner+Counter+Batcher+RecordLoader\n"} {
		if !strings.Contains(wrapper, want) {
			t.Errorf("caps_gen.go lacks %q", want)
		}
	}
	for _, absent := range []string{"NonBlocking", "Closer", "case 64"} {
		if strings.Contains(wrapper+inner, absent) {
			t.Errorf("a skipped capability shows: %q", absent)
		}
	}
	if strings.Contains(inner, `"io"`) {
		t.Error(`caps_gen_test.go imports "io" with io.Closer skipped`)
	}
}

// TestEveryCapability: without -skip, both files hold every capability of
// the table, each under its own name, field and part, the masks running
// up to the one with all of them.
func TestEveryCapability(t *testing.T) {
	files, err := generate([]string{"-pkg", "w", "-prefix", "p"})
	if err != nil {
		t.Fatal(err)
	}
	wrapper, inner := string(files["caps_gen.go"]), string(files["caps_gen_test.go"])
	names, fields := map[string]bool{}, map[string]bool{}
	var full, quoted []string
	for _, c := range all {
		if names[c.name] || fields[c.field] {
			t.Errorf("%s: a name or field twice in the table", c.name)
		}
		names[c.name], fields[c.field] = true, true
		full = append(full, c.name)
		quoted = append(quoted, strconv.Quote(c.name))
		part := strings.Replace(c.part, "-", "p", 1)
		field := fmt.Sprintf(`(?m)^\t%s +\*%s +// %s$`, c.field, part, regexp.QuoteMeta(c.iface))
		if !regexp.MustCompile(field).MatchString(wrapper) {
			t.Errorf("caps_gen.go's parts lack %s *%s", c.field, part)
		}
		if want := fmt.Sprintf("\t%s\n", c.iface); !strings.Contains(inner, want) {
			t.Errorf("caps_gen_test.go's fullStore lacks %s", c.iface)
		}
	}
	last := fmt.Sprintf("case %d: // %s\n", 1<<len(all)-1, strings.Join(full, "+"))
	for name, src := range files {
		if !strings.Contains(string(src), last) {
			t.Errorf("%s lacks %q", name, last)
		}
		if strings.Contains(string(src), fmt.Sprintf("case %d:", 1<<len(all))) {
			t.Errorf("%s has a mask beyond the table's", name)
		}
	}
	for _, want := range []string{
		fmt.Sprintf("allCaps caps = 1<<%d - 1", len(all)),
		"var capNames = [...]string{" + strings.Join(quoted, ", ") + "}\n",
	} {
		if !strings.Contains(inner, want) {
			t.Errorf("caps_gen_test.go lacks %q", want)
		}
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
