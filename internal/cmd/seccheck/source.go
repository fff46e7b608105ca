package main

import (
	"go/ast"
	"go/token"
	"regexp"
	"strconv"
	"strings"
)

func importPath(spec *ast.ImportSpec) string {
	p, _ := strconv.Unquote(spec.Path.Value)
	return p
}

// checkMathRand is S-01's static half: session IDs, refresh tokens and
// CSRF secrets come from crypto/rand, and no production code of the
// repository can even reach math/rand or math/rand/v2. Test-support
// packages may use them for load generation, and no production package
// may import a test-support package of the repository.
func checkMathRand(r *repo) []finding {
	var out []finding
	for _, f := range r.sources {
		if testSupport(f.dir) {
			continue
		}
		for _, spec := range f.file.Imports {
			p := importPath(spec)
			line := f.fset.Position(spec.Pos()).Line
			switch {
			case p == "math/rand" || p == "math/rand/v2":
				out = append(out, finding{f.path, line, "imports " + p + ": production code must draw randomness from crypto/rand (S-01)"})
			case (p == r.rootModule || strings.HasPrefix(p, r.rootModule+"/")) && testSupport(p):
				out = append(out, finding{f.path, line, "imports the test-support package " + p + ", which may use math/rand; production code must not (S-01)"})
			}
		}
	}
	return out
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

// reviewedComparisons are the hits of the S-61 rule that are known to be
// safe, keyed by file and exact expression text. Each says why. A new
// hit, or a changed expression, is a finding until it is reviewed here;
// an entry that matches nothing any more is a finding too.
//
// All of them compare session hashes: the SHA-256 of a session ID, which
// is the store key, not a credential (a cookie needs the raw ID and its
// MAC, and access tokens publish the hash as their "sid" claim). None
// compares a presented credential with a stored one.
var reviewedComparisons = map[string]string{
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
	"cmd/keycard/internal/demo/account.go: hash == s.Info().Hash":           "is the revoked session the current one; both known to the user",
}

// checkComparisons is S-61's static rule: no ==, !=, switch,
// bytes.Equal, strings.EqualFold (or similar variable-time comparison)
// applies to a value whose name says it is a MAC, signature, tag, hash,
// CSRF token or secret, in any production file of the repository, except
// the reviewed ones. Comparisons with a constant (nil, "", a literal or a
// named constant of the package) and of lengths (len(x), cap(x)) are
// allowed: they reveal only whether a value is present or what size it
// has, which is public.
func checkComparisons(r *repo, reviewed map[string]string) []finding {
	var out []finding
	consts := constNames(r.sources)
	seen := map[string]bool{}
	for _, f := range r.sources {
		if testSupport(f.dir) {
			continue
		}
		for _, h := range variableTimeComparisons(f, consts[f.dir]) {
			key := f.path + ": " + h.expr
			if _, ok := reviewed[key]; ok {
				seen[key] = true
				continue
			}
			out = append(out, finding{f.path, h.line, "variable-time comparison of a secret: " + h.expr + " (S-61: use hmac.Equal or subtle.ConstantTimeCompare)"})
		}
	}
	for key := range reviewed {
		if !seen[key] {
			file, expr, _ := strings.Cut(key, ": ")
			out = append(out, finding{file, 1, "the reviewed comparison " + strconv.Quote(expr) + " is no longer in this file; remove it from reviewedComparisons (internal/cmd/seccheck)"})
		}
	}
	return out
}

// comparison is one variable-time comparison of a sensitive operand.
type comparison struct {
	line int
	expr string // the source text
}

// variableTimeComparisons returns the comparisons in f that break the
// S-61 rule; pkgConsts are the constants of its package.
func variableTimeComparisons(f sourceFile, pkgConsts map[string]bool) []comparison {
	var hits []comparison
	text := func(n ast.Node) string {
		return string(f.src[f.fset.Position(n.Pos()).Offset:f.fset.Position(n.End()).Offset])
	}
	isConst := func(e ast.Expr) bool { return constant(e, pkgConsts) }
	report := func(n ast.Node) {
		hits = append(hits, comparison{line: f.fset.Position(n.Pos()).Line, expr: text(n)})
	}
	ast.Inspect(f.file, func(n ast.Node) bool {
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

// sensitiveOperand reports whether e names a value the S-61 rule
// protects. A length (len, cap) never does.
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

// calleeName returns "pkg.Func", "Func" or ".Method" for a call's
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

// unverifiedParsers are the functions of JWT libraries that read a
// token's claims without verifying it: go-jose's, and the ParseUnverified
// of golang-jwt and others.
var unverifiedParsers = map[string]bool{
	"UnsafeClaimsWithoutVerification":  true,
	"UnsafePayloadWithoutVerification": true,
	"ParseUnverified":                  true,
}

// checkUnverifiedParsing is S-43's static half: no non-test code,
// test-support packages included, reads a JWT's claims without verifying
// it first.
func checkUnverifiedParsing(r *repo) []finding {
	var out []finding
	for _, f := range r.sources {
		ast.Inspect(f.file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && unverifiedParsers[sel.Sel.Name] {
				out = append(out, finding{f.path, f.fset.Position(sel.Pos()).Line, sel.Sel.Name + " reads a token without verifying it (S-43)"})
			}
			return true
		})
	}
	return out
}
