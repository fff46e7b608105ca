package keycard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchitectureNamesEveryRootFile keeps docs/ARCHITECTURE.md's table of
// the root package's files true: every non-test Go file of the package
// appears in it, and every file it names exists.
func TestArchitectureNamesEveryRootFile(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "## Files of the root package")
	if !ok {
		t.Fatal(`docs/ARCHITECTURE.md has no "## Files of the root package" section`)
	}
	table, _, _ = strings.Cut(table, "\n## ")
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		have[f] = true
		if !strings.Contains(table, "`"+f+"`") {
			t.Errorf("%s is not in docs/ARCHITECTURE.md's table of root files: add a row that says what it holds", f)
		}
	}
	for _, line := range strings.Split(table, "\n") {
		for _, field := range strings.Split(line, "`") {
			if strings.HasSuffix(field, ".go") && !strings.Contains(field, " ") && !have[field] {
				t.Errorf("docs/ARCHITECTURE.md names %s, which is not a file of the root package", field)
			}
		}
	}
}
