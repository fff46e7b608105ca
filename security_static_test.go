package keycard_test

// Static security checks over the source of the whole repository (every
// module of the workspace): rules of docs/SECURITY.md that are best
// enforced by reading the code rather than running it.

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// sourceFile is one parsed non-test Go file of the repository.
type sourceFile struct {
	path string // relative to the repository root, slash-separated
	dir  string
	fset *token.FileSet
	file *ast.File
}

// repoRoot is the repository root: this test runs in the root package.
const repoRoot = "."

// skipDir reports whether a directory is outside the code under review:
// VCS data, testdata (fixtures, not code), and hidden or vendored trees.
func skipDir(name string) bool {
	return name == "testdata" || name == "vendor" || (len(name) > 1 && (name[0] == '.' || name[0] == '_'))
}

// nonTestSources parses every non-test .go file of the repository.
func nonTestSources(t *testing.T) []sourceFile {
	t.Helper()
	var files []sourceFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != repoRoot && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, sourceFile{path: filepath.ToSlash(path), dir: filepath.ToSlash(filepath.Dir(path)), fset: fset, file: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found only %d non-test Go files; is the test running at the repository root?", len(files))
	}
	return files
}

// testSupport reports whether a directory holds a test-support package:
// by Go convention (net/http/httptest, testing/iotest) a package whose
// name ends in "test", such as store/storetest, keycardtest or
// internal/redistest. They are compiled only into tests; TestNoMathRand
// checks that no production package imports one.
func testSupport(dir string) bool {
	return strings.HasSuffix(filepath.Base(dir), "test")
}

func importPath(spec *ast.ImportSpec) string {
	p, _ := strconv.Unquote(spec.Path.Value)
	return p
}

// TestNoMathRand is S-01's static half: session IDs, refresh tokens and
// CSRF secrets come from crypto/rand, and no production code of the
// repository can even reach math/rand or math/rand/v2. Test-support
// packages (whose names end in "test") may use them for load generation;
// the test also fails if a production package imports one of those.
func TestNoMathRand(t *testing.T) {
	t.Parallel()
	files := nonTestSources(t)
	checked := 0
	for _, f := range files {
		support := testSupport(f.dir)
		for _, spec := range f.file.Imports {
			p := importPath(spec)
			switch {
			case !support && (p == "math/rand" || p == "math/rand/v2"):
				t.Errorf("%s imports %s: production code must draw randomness from crypto/rand", f.path, p)
			case !support && strings.HasPrefix(p, "github.com/keycard-go/") && testSupport(p):
				t.Errorf("%s imports the test-support package %s", f.path, p)
			}
		}
		if !support {
			checked++
		}
	}
	t.Logf("checked the imports of %d production files", checked)
}

// sensitive matches the names of values that must only be compared in
// constant time: MACs, signatures, tags, hashes of credentials, CSRF
// tokens and secrets (S-61).
var sensitive = regexp.MustCompile(`(?i)(mac|sig|tag|hash|csrf|secret)`)

// notSensitive matches names that contain those letters but name no
// secret: words where they occur by accident.
var notSensitive = regexp.MustCompile(`(?i)^(image|imag.*|machine.*|stage.*|storage.*|message.*|msg.*|usage.*|manager.*|damage.*|package.*|language.*|signal.*|design.*|assign.*|stagger.*)$`)

// variableTimeCalls are comparison functions that are not constant-time.
var variableTimeCalls = map[string]bool{
	"bytes.Equal": true, "bytes.Compare": true, "bytes.EqualFold": true, "bytes.HasPrefix": true,
	"strings.EqualFold": true, "strings.Compare": true, "strings.HasPrefix": true,
	"slices.Equal": true, "reflect.DeepEqual": true,
}

// comparison is one variable-time comparison of a sensitive operand.
type comparison struct {
	line int
	expr string // the source text
}

// safeComparisons are the hits of the rule that are known to be safe,
// keyed by file and exact expression text. Each says why. A new hit, or a
// changed expression, fails the test until it is reviewed here.
//
// All of them compare session hashes: the SHA-256 of a session ID, which
// is the store key, not a credential (a cookie needs the raw ID and its
// MAC, and access tokens publish the hash as their "sid" claim). None
// compares a presented credential with a stored one.
var safeComparisons = map[string]string{
	// enforceLimit: the current session's key against the user's listed
	// sessions, both read on the server.
	"users.go: in.Hash == current": "store keys of the user's own sessions, both server-side",
	// enforceLimit: a tie-break when sorting the user's sessions.
	"users.go: strings.Compare(a.Hash, b.Hash)": "sort order of store keys, both server-side",
	// keycard sessions: sorting the rows of an admin listing.
	"cmd/keycard/admin.go: strings.Compare(a.Hash, b.Hash)": "sort order of store keys in an admin listing",
	// The demo's device page: sorting, and matching the hash a user
	// submits to revoke one of the sessions that page showed them.
	"cmd/keycard/internal/demo/account.go: strings.Compare(x.Hash, y.Hash)": "sort order of the user's own sessions",
	"cmd/keycard/internal/demo/account.go: in.Hash == hash":                 "the user's own session hashes, shown to them on the devices page",
	"cmd/keycard/internal/demo/account.go: hash == s.Hash()":                "is the revoked session the current one; both known to the user",
}

// TestComparisonsOfSecretsAreConstantTime is S-61's static rule: no ==,
// !=, switch, bytes.Equal, strings.EqualFold (or similar variable-time
// comparison) applies to a value whose name says it is a MAC, signature,
// tag, hash, CSRF token or secret, in any non-test file of the
// repository. Comparisons with a constant (nil, "", a literal or a named
// constant) and of lengths (len(x), cap(x)) are allowed: they reveal only
// whether a value is present or what size it has, which is public.
func TestComparisonsOfSecretsAreConstantTime(t *testing.T) {
	t.Parallel()
	files := nonTestSources(t)
	consts := constNames(files)
	seen := map[string]bool{}
	for _, f := range files {
		if testSupport(f.dir) {
			continue
		}
		src, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range variableTimeComparisons(f.fset, f.file, src, consts[f.dir]) {
			key := f.path + ": " + h.expr
			if _, ok := safeComparisons[key]; ok {
				seen[key] = true
				continue
			}
			t.Errorf("%s:%d: variable-time comparison of a secret: %s", f.path, h.line, h.expr)
		}
	}
	for key := range safeComparisons {
		if !seen[key] {
			t.Errorf("the reviewed comparison %q is gone; remove it from safeComparisons", key)
		}
	}
}

// TestComparisonRuleCatchesRegressions runs the rule of
// TestComparisonsOfSecretsAreConstantTime over code that breaks it and
// code that does not, so the rule is shown to bite.
func TestComparisonRuleCatchesRegressions(t *testing.T) {
	t.Parallel()
	const src = `package p

const tagSize = 32

func f(tag, want, mac, csrfToken, x []byte, s interface{ Secret() string }, hash, sig string, sum [32]byte) bool {
	_ = string(tag) == string(want)         // bad
	_ = bytes.Equal(mac, x)                  // bad
	_ = strings.EqualFold(string(csrfToken), "") // fine: a constant
	_ = strings.EqualFold(hash, sig)         // bad
	_ = s.Secret() != sig                    // bad
	_ = string(sum[:]) == hash               // bad
	switch sig {                             // bad
	case hash:
	}
	_ = len(sig) != tagSize                  // fine: a length against a constant
	_ = hash == ""                           // fine: presence
	_ = len(tag) == len(want)                // fine: lengths
	_ = hmac.Equal(tag, want)                // fine: constant-time
	_ = subtle.ConstantTimeCompare(mac, x)   // fine
	_ = x == nil                             // fine
	return false
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	got := variableTimeComparisons(fset, f, []byte(src), constNames([]sourceFile{{dir: ".", file: f}})["."])
	var lines []string
	for _, h := range got {
		lines = append(lines, h.expr)
	}
	want := []string{
		"string(tag) == string(want)", "bytes.Equal(mac, x)", "strings.EqualFold(hash, sig)",
		"s.Secret() != sig", "string(sum[:]) == hash", "sig",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("the rule found\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// variableTimeComparisons returns the comparisons in file f (source src)
// that break the rule; pkgConsts are the constants of its package.
func variableTimeComparisons(fset *token.FileSet, f *ast.File, src []byte, pkgConsts map[string]bool) []comparison {
	var hits []comparison
	text := func(n ast.Node) string {
		return string(src[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset])
	}
	isConst := func(e ast.Expr) bool { return constant(e, pkgConsts) }
	report := func(n ast.Node) {
		hits = append(hits, comparison{line: fset.Position(n.Pos()).Line, expr: text(n)})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if n.Op != token.EQL && n.Op != token.NEQ {
				return true
			}
			if isConst(n.X) || isConst(n.Y) {
				return true
			}
			if sensitiveOperand(n.X) || sensitiveOperand(n.Y) {
				report(n)
			}
		case *ast.CallExpr:
			if !variableTimeCalls[calleeName(n.Fun)] {
				return true
			}
			for _, a := range n.Args {
				if isConst(a) {
					return true
				}
			}
			for _, a := range n.Args {
				if sensitiveOperand(a) {
					report(n)
					break
				}
			}
		case *ast.SwitchStmt:
			if n.Tag == nil || !sensitiveOperand(n.Tag) {
				return true
			}
			for _, s := range n.Body.List {
				for _, v := range s.(*ast.CaseClause).List {
					if !isConst(v) {
						report(n.Tag)
						return true
					}
				}
			}
		}
		return true
	})
	return hits
}

// sensitiveOperand reports whether e names a value the rule protects. A
// length (len, cap) never does.
func sensitiveOperand(e ast.Expr) bool {
	name := operandName(e)
	return name != "" && sensitive.MatchString(name) && !notSensitive.MatchString(name)
}

// operandName returns the name that says what e holds: the identifier,
// the selected field or method, or the base of an index, slice,
// conversion or dereference; "" for lengths and anything else.
func operandName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return operandName(e.X)
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.IndexExpr:
		return operandName(e.X)
	case *ast.SliceExpr:
		return operandName(e.X)
	case *ast.StarExpr:
		return operandName(e.X)
	case *ast.UnaryExpr:
		return operandName(e.X)
	case *ast.CallExpr:
		switch fn := calleeName(e.Fun); fn {
		case "len", "cap":
			return ""
		case "string", "[]byte":
			if len(e.Args) == 1 {
				return operandName(e.Args[0])
			}
			return ""
		default:
			if i := strings.LastIndexByte(fn, '.'); i >= 0 {
				fn = fn[i+1:]
			}
			return fn
		}
	}
	return ""
}

// calleeName returns "pkg.Func", "Func" or "x.Method" for a call's
// function expression.
func calleeName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			return x.Name + "." + f.Sel.Name
		}
		return "." + f.Sel.Name
	case *ast.ArrayType:
		if id, ok := f.Elt.(*ast.Ident); ok && f.Len == nil {
			return "[]" + id.Name
		}
	case *ast.ParenExpr:
		return calleeName(f.X)
	}
	return ""
}

// constant reports whether e is a constant: a literal, nil, true, false,
// or a constant declared in its package (pkgConsts).
func constant(e ast.Expr, pkgConsts map[string]bool) bool {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return constant(e.X, pkgConsts)
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return e.Name == "nil" || e.Name == "true" || e.Name == "false" || pkgConsts[e.Name]
	case *ast.UnaryExpr:
		return constant(e.X, pkgConsts)
	case *ast.BinaryExpr:
		return constant(e.X, pkgConsts) && constant(e.Y, pkgConsts)
	}
	return false
}

// constNames returns, per directory, the names of the constants declared
// at package level.
func constNames(files []sourceFile) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, f := range files {
		if out[f.dir] == nil {
			out[f.dir] = map[string]bool{}
		}
		for _, d := range f.file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					out[f.dir][n.Name] = true
				}
			}
		}
	}
	return out
}

// TestNoUnverifiedTokenParsing is S-43's static half: no production code
// reads a JWT's claims without verifying it first. go-jose's
// UnsafeClaimsWithoutVerification and the ParseUnverified of other JWT
// libraries must not be called outside tests.
func TestNoUnverifiedTokenParsing(t *testing.T) {
	t.Parallel()
	banned := map[string]bool{"UnsafeClaimsWithoutVerification": true, "ParseUnverified": true, "UnsafePayloadWithoutVerification": true}
	for _, f := range nonTestSources(t) {
		ast.Inspect(f.file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && banned[sel.Sel.Name] {
				t.Errorf("%s:%d: %s reads a token without verifying it", f.path, f.fset.Position(sel.Pos()).Line, sel.Sel.Name)
			}
			return true
		})
	}
}

// bannedModules are modules with unfixed security defects or abandoned
// by their maintainers (S-69), with the reason.
var bannedModules = map[string]string{
	"github.com/dgrijalva/jwt-go":  "unmaintained; CVE-2020-26160 (aud as an array)",
	"github.com/gorilla/csrf":      "CVE-2025-47909 (TrustedOrigins ignores the scheme), no fix",
	"gopkg.in/square/go-jose.v2":   "unmaintained; CVE-2024-28180 unfixed",
	"gopkg.in/go-jose/go-jose.v2":  "v2 line; use github.com/go-jose/go-jose/v4",
	"github.com/square/go-jose":    "unmaintained",
	"github.com/golang-jwt/jwt":    "v3 line is unmaintained",
	"github.com/form3tech-oss/jwt": "fork of dgrijalva/jwt-go",
}

// versionFloors are the lowest acceptable versions of modules with fixed
// defects (S-69).
var versionFloors = map[string]string{
	"github.com/golang-jwt/jwt/v4":  "v4.5.2", // CVE-2025-30204, CVE-2024-51744
	"github.com/golang-jwt/jwt/v5":  "v5.2.2", // CVE-2025-30204
	"github.com/go-jose/go-jose/v4": "v4.0.5", // CVE-2025-27144, CVE-2024-28180
	"github.com/go-jose/go-jose/v3": "v3.0.4", // CVE-2025-27144
	"golang.org/x/oauth2":           "v0.27.0",
	"golang.org/x/crypto":           "v0.35.0", // CVE-2025-22869 (ssh), CVE-2024-45337
	"golang.org/x/net":              "v0.38.0", // CVE-2025-22872
}

// TestNoBannedModules is S-69's dependency rule, over every go.mod and
// go.work.sum of the repository: no banned module, and no module below
// its security floor. It does not replace govulncheck, which needs the
// network; it keeps the known-bad list out of the build for good.
func TestNoBannedModules(t *testing.T) {
	t.Parallel()
	var mods []string
	filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != repoRoot && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		if !d.IsDir() && (d.Name() == "go.mod" || d.Name() == "go.sum" || d.Name() == "go.work.sum") {
			mods = append(mods, path)
		}
		return nil
	})
	if len(mods) < 4 {
		t.Fatalf("found only %d go.mod/go.sum files", len(mods))
	}
	for _, path := range mods {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
			if len(fields) < 2 || strings.HasPrefix(fields[0], "//") {
				continue
			}
			mod, ver := fields[0], strings.TrimSuffix(fields[1], "/go.mod")
			for banned, why := range bannedModules {
				if mod == banned || strings.HasPrefix(mod, banned+"/") && !strings.HasPrefix(mod, banned+"/v") {
					t.Errorf("%s:%d: %s is banned: %s", path, line, mod, why)
				}
			}
			if floor, ok := versionFloors[mod]; ok && strings.HasPrefix(ver, "v") && semverLess(ver, floor) {
				t.Errorf("%s:%d: %s %s is below the security floor %s", path, line, mod, ver, floor)
			}
		}
		f.Close()
	}
}

// semverLess compares two vMAJOR.MINOR.PATCH versions, ignoring any
// pre-release or build suffix.
func semverLess(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func versionParts(v string) [3]int {
	var out [3]int
	v = strings.TrimPrefix(v, "v")
	v = strings.TrimPrefix(v, "go")
	if i := strings.IndexAny(v, "-+ "); i >= 0 {
		v = v[:i]
	}
	for i, p := range strings.SplitN(v, ".", 3) {
		n, _ := strconv.Atoi(p)
		out[i] = n
	}
	return out
}

// TestToolchainHasTheNetHTTPFixes is S-67's toolchain rule: Keycard
// relies on net/http for header size limits and CSRF origin checks, and
// go.mod allows Go 1.25.0, so the toolchain that builds and tests it must
// carry the fixes of CVE-2025-47910 (CrossOriginProtection bypass
// patterns, Go 1.25.1) and CVE-2025-58186 (unbounded cookie count, Go
// 1.25.2).
func TestToolchainHasTheNetHTTPFixes(t *testing.T) {
	t.Parallel()
	v := runtime.Version()
	if !strings.HasPrefix(v, "go1.") {
		t.Skipf("development toolchain %s", v)
	}
	if semverLess(v, "go1.25.2") {
		t.Errorf("built with %s; Go 1.25.2 or later is required (CVE-2025-47910, CVE-2025-58186)", v)
	}
}
