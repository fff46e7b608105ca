package main

import (
	"cmp"
	"errors"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// sourceFile is one parsed non-test Go file of the repository.
type sourceFile struct {
	path string // relative to the root, slash-separated
	dir  string // path's directory
	src  []byte
	fset *token.FileSet
	file *ast.File
}

// repo is what the rules read: the non-test Go files and the module
// files of every module under the root.
type repo struct {
	rootModule  string // the module path of the root's go.mod
	sources     []sourceFile
	parseErrors []finding // Go files that do not parse
	modFiles    []string  // go.mod, go.work, go.sum, go.work.sum; relative, slash-separated
}

// skipDir reports whether a directory is outside the code under review:
// VCS data, testdata (fixtures, not code), and hidden, underscored or
// vendored trees (.tools holds the built tools).
func skipDir(name string) bool {
	return name == "testdata" || name == "vendor" || (len(name) > 1 && (name[0] == '.' || name[0] == '_'))
}

// moduleFile reports whether a file name is one the dependency rule
// reads.
func moduleFile(name string) bool {
	return name == "go.mod" || name == "go.sum" || name == "go.work" || name == "go.work.sum"
}

// readRepo walks the tree under root and parses its non-test Go files.
func readRepo(root string) (*repo, error) {
	r := &repo{}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	r.rootModule = modulePath(gomod)
	if r.rootModule == "" {
		return nil, errors.New("the root go.mod has no module directive")
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if moduleFile(d.Name()) {
			r.modFiles = append(r.modFiles, rel)
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
		if err != nil {
			line := 1
			var list scanner.ErrorList
			if errors.As(err, &list) && len(list) > 0 {
				line = list[0].Pos.Line
			}
			r.parseErrors = append(r.parseErrors, finding{rel, line, "does not parse, so no rule can read it: " + err.Error()})
			return nil
		}
		r.sources = append(r.sources, sourceFile{path: rel, dir: path.Dir(rel), src: src, fset: fset, file: f})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(r.sources) == 0 {
		return nil, errors.New("found no Go files under " + root)
	}
	return r, nil
}

// modulePath returns the path of a go.mod's module directive, or "".
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		fields := strings.Fields(stripComment(line))
		if len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`)
		}
	}
	return ""
}

// stripComment removes a "//" comment from a go.mod or go.work line.
func stripComment(line string) string {
	if i := strings.Index(line, "//"); i >= 0 {
		line = line[:i]
	}
	return line
}

// testSupport reports whether a directory (or import path) is a
// test-support package: by Go convention (net/http/httptest,
// testing/iotest) a package whose name ends in "test", such as
// store/storetest, keycardtest or internal/redistest. They are compiled
// only into tests; checkMathRand checks that no production package
// imports one.
func testSupport(dir string) bool {
	return strings.HasSuffix(path.Base(dir), "test")
}

// sortFindings orders findings by file, line and message.
func sortFindings(list []finding) {
	slices.SortFunc(list, func(a, b finding) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.line, b.line), cmp.Compare(a.msg, b.msg))
	})
}
