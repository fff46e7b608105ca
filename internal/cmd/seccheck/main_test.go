package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeTree writes files (slash-separated path → content) under a new
// temporary directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const goMod = "module example.com/r\n\ngo 1.25\n"

// want is an expected finding: its "file:line" and a part of its message.
type want struct {
	loc, says string
}

// checkFindings runs the check and requires exactly the wanted findings,
// in order.
func checkFindings(t *testing.T, cfg config, wants []want) report {
	t.Helper()
	if cfg.goVersion == "" {
		cfg.goVersion = "go1.26.0"
	}
	rep, err := check(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ok := len(rep.findings) == len(wants)
	for i := 0; ok && i < len(wants); i++ {
		f := rep.findings[i]
		ok = f.file+":"+strconv.Itoa(f.line) == wants[i].loc && strings.Contains(f.msg, wants[i].says)
	}
	if !ok {
		var got, exp []string
		for _, f := range rep.findings {
			got = append(got, f.String())
		}
		for _, w := range wants {
			exp = append(exp, w.loc+": ..."+w.says+"...")
		}
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
	return rep
}

// TestRepositoryPasses runs every rule, the module graphs included, over
// the repository itself: it has no findings, and the check read enough of
// it to mean something.
func TestRepositoryPasses(t *testing.T) {
	cfg := config{root: filepath.Join("..", "..", ".."), reviewed: reviewedComparisons, goVersion: runtime.Version()}
	if _, err := exec.LookPath("go"); err == nil {
		cfg.listGraph = goListGraph("go")
	} else {
		t.Log("no go command on PATH: the module graphs are not listed")
	}
	rep, err := check(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.findings {
		t.Error(f)
	}
	if rep.productionFiles < 50 || rep.moduleFiles < 4 {
		t.Errorf("read only %d production files and %d module files; is the root right?", rep.productionFiles, rep.moduleFiles)
	}
	if cfg.listGraph != nil && rep.graphs < 2 {
		t.Errorf("listed only %d module graphs", rep.graphs)
	}
	t.Logf("%d Go files (%d production), %d module files, %d graphs (%d modules)", rep.goFiles, rep.productionFiles, rep.moduleFiles, rep.graphs, rep.graphModules)
}

// TestMathRandRuleCatchesRegressions plants imports of math/rand and of
// test-support packages, where they are banned and where they are not.
func TestMathRandRuleCatchesRegressions(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"go.mod": goMod,
		"a.go": `package r

import (
	crand "crypto/rand"
	"math/rand"
)
`,
		"b/b.go":            "package b\n\nimport mrand \"math/rand/v2\"\n",
		"c/c.go":            "package c\n\nimport _ \"example.com/r/rtest\"\nimport _ \"example.com/r/store/storetest\"\n",
		"d/d.go":            "package d\n\nimport _ \"example.org/other/othertest\"\n", // not the repository's
		"rtest/rtest.go":    "package rtest\n\nimport \"math/rand\"\n",                 // test support may
		"a_test.go":         "package r\n\nimport \"math/rand\"\n",                     // tests may
		"testdata/x/x.go":   "package x\n\nimport \"math/rand\"\n",                     // fixtures are not code
		".hidden/h.go":      "package h\n\nimport \"math/rand\"\n",
		"_skipped/s.go":     "package s\n\nimport \"math/rand\"\n",
		"sub/go.mod":        "module example.com/r/sub\n\ngo 1.25\n",
		"sub/internal/i.go": "package i\n\nimport \"math/rand\"\n", // another module of the repository
	})
	checkFindings(t, config{root: root}, []want{
		{"a.go:5", "imports math/rand: production code must draw randomness from crypto/rand"},
		{"b/b.go:3", "imports math/rand/v2"},
		{"c/c.go:3", "imports the test-support package example.com/r/rtest"},
		{"c/c.go:4", "imports the test-support package example.com/r/store/storetest"},
		{"sub/internal/i.go:3", "imports math/rand"},
	})
}

// TestComparisonRuleCatchesRegressions runs the S-61 rule over code that
// breaks it and code that does not, so the rule is shown to bite; and
// over the reviewed exceptions, one still there and one gone.
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
	switch sig {                             // fine: constants
	case "", "none":
	}
	_ = len(sig) != tagSize                  // fine: a length against a constant
	_ = hash == ""                           // fine: presence
	_ = len(tag) == len(want)                // fine: lengths
	_ = hmac.Equal(tag, want)                // fine: constant-time
	_ = subtle.ConstantTimeCompare(mac, x)   // fine
	_ = x == nil                             // fine
	_ = image == storage                     // fine: not secrets by name
	return false
}
`
	root := writeTree(t, map[string]string{
		"go.mod":           goMod,
		"p/p.go":           src,
		"p/reviewed.go":    "package p\n\nfunc g(mac, got []byte) bool { return string(mac) == string(got) }\n",
		"p/p_test.go":      "package p\n\nfunc h(mac, got string) bool { return mac == got }\n",
		"ptest/support.go": "package ptest\n\nfunc h(mac, got string) bool { return mac == got }\n",
	})
	reviewed := map[string]string{
		"p/reviewed.go: string(mac) == string(got)": "planted: reviewed and still there",
		"p/gone.go: sig == x":                       "planted: reviewed and gone",
	}
	checkFindings(t, config{root: root, reviewed: reviewed}, []want{
		{"p/gone.go:1", `the reviewed comparison "sig == x" is no longer in this file`},
		{"p/p.go:6", "variable-time comparison of a secret: string(tag) == string(want)"},
		{"p/p.go:7", "variable-time comparison of a secret: bytes.Equal(mac, x)"},
		{"p/p.go:9", "variable-time comparison of a secret: strings.EqualFold(hash, sig)"},
		{"p/p.go:10", "variable-time comparison of a secret: s.Secret() != sig"},
		{"p/p.go:11", "variable-time comparison of a secret: string(sum[:]) == hash"},
		{"p/p.go:12", "variable-time comparison of a secret: sig ("},
	})
}

// TestUnverifiedParsingRuleCatchesRegressions plants calls that read a
// token without verifying it.
func TestUnverifiedParsingRuleCatchesRegressions(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"go.mod": goMod,
		"a.go": `package r

func f(tok jwtToken, p parser) {
	var c claims
	_ = tok.UnsafeClaimsWithoutVerification(&c)
	_, _, _ = p.ParseUnverified("x", &c)
	_ = tok.Claims(key, &c) // fine: verified
}
`,
		"b/b.go":        "package b\n\nfunc g(s signature) []byte { return s.UnsafePayloadWithoutVerification() }\n",
		"btest/bt.go":   "package btest\n\nfunc g(s signature) []byte { return s.UnsafePayloadWithoutVerification() }\n", // test support too
		"b/b_test.go":   "package b\n\nfunc h(s signature) []byte { return s.UnsafePayloadWithoutVerification() }\n",
		"testdata/t.go": "package t\n\nfunc h(s signature) []byte { return s.UnsafePayloadWithoutVerification() }\n",
	})
	checkFindings(t, config{root: root}, []want{
		{"a.go:5", "UnsafeClaimsWithoutVerification reads a token without verifying it"},
		{"a.go:6", "ParseUnverified reads a token without verifying it"},
		{"b/b.go:3", "UnsafePayloadWithoutVerification reads a token without verifying it"},
		{"btest/bt.go:3", "UnsafePayloadWithoutVerification reads a token without verifying it"},
	})
}

// TestUnparsableFilesAreFindings: a Go file no rule can read is not
// silently passed over.
func TestUnparsableFilesAreFindings(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"go.mod": goMod,
		"a.go":   "package r\n",
		"b.go":   "package r\n\nfunc {\n",
	})
	checkFindings(t, config{root: root}, []want{{"b.go:3", "does not parse"}})
}

// TestModuleFileRuleCatchesRegressions plants banned modules and modules
// below their floors in every kind of module file, and lines that are
// not regressions: exclusions, /go.mod sums of versions passed over,
// later majors of a banned path, pseudo-versions after a floor.
func TestModuleFileRuleCatchesRegressions(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"go.mod": `module example.com/r

go 1.25

require (
	github.com/dgrijalva/jwt-go v3.2.0+incompatible
	github.com/golang-jwt/jwt v3.2.2+incompatible
	github.com/golang-jwt/jwt/v5 v5.2.1
	github.com/golang-jwt/jwt/v4 v4.5.2 // fine: the floor
	github.com/form3tech-oss/jwt-go v3.2.5+incompatible // indirect
	golang.org/x/crypto v0.35.1-0.20250301000000-abcdef123456 // fine: after v0.35.0
	golang.org/x/oauth2 v0.27.0-0.20250101000000-abcdef123456 // before v0.27.0
	github.com/go-jose/go-jose/v4 v4.0.5-rc.1
	"github.com/dgrijalva/jwt-go/v4" v4.0.0-preview1
)

require github.com/gorilla/csrf v1.7.3

exclude github.com/dgrijalva/jwt-go v3.2.1+incompatible // fine: kept out

exclude (
	golang.org/x/net v0.1.0
)

retract v0.1.0 // github.com/dgrijalva/jwt-go

replace golang.org/x/net => golang.org/x/net v0.37.0

replace github.com/square/go-jose => ./jose

replace (
	example.com/x v1.0.0 => gopkg.in/square/go-jose.v2 v2.6.0
	golang.org/x/crypto => ../crypto // fine: a directory
)
`,
		"go.sum": `golang.org/x/crypto v0.0.0-20190308221718-c2843e01d9a2/go.mod h1:x=
golang.org/x/crypto v0.34.0 h1:x=
golang.org/x/crypto v0.35.0 h1:x=
github.com/gorilla/csrf v1.7.3/go.mod h1:x=
github.com/go-jose/go-jose/v4 v4.0.5 h1:x=
`,
		"go.work": `go 1.25

use (
	.
	./sub
)

replace github.com/golang-jwt/jwt/v4 v4.5.0 => github.com/golang-jwt/jwt/v4 v4.5.1
`,
		"go.work.sum":       "gopkg.in/go-jose/go-jose.v2 v2.6.3/go.mod h1:x=\n",
		"a.go":              "package r\n",
		"sub/go.mod":        "module example.com/r/sub\n\ngo 1.25\n\nrequire golang.org/x/net v0.38.0\n",
		"sub/go.sum":        "golang.org/x/net v0.38.0 h1:x=\ngolang.org/x/net v0.20.0/go.mod h1:x=\n",
		"testdata/m/go.mod": "module m\n\nrequire github.com/dgrijalva/jwt-go v3.2.0+incompatible\n",
	})
	checkFindings(t, config{root: root}, []want{
		{"go.mod:6", "github.com/dgrijalva/jwt-go is banned: unmaintained; CVE-2020-26160"},
		{"go.mod:7", "github.com/golang-jwt/jwt is banned: the v3 line is unmaintained"},
		{"go.mod:8", "github.com/golang-jwt/jwt/v5 v5.2.1 is below the security floor v5.2.2: CVE-2025-30204"},
		{"go.mod:10", "github.com/form3tech-oss/jwt-go is banned"},
		{"go.mod:12", "golang.org/x/oauth2 v0.27.0-0.20250101000000-abcdef123456 is below the security floor v0.27.0"},
		{"go.mod:13", "github.com/go-jose/go-jose/v4 v4.0.5-rc.1 is below the security floor v4.0.5"},
		{"go.mod:14", "github.com/dgrijalva/jwt-go/v4 is banned"},
		{"go.mod:17", "github.com/gorilla/csrf is banned: CVE-2025-47909"},
		{"go.mod:27", "the replacement golang.org/x/net v0.37.0 is below the security floor v0.38.0"},
		{"go.mod:29", "github.com/square/go-jose is banned, replaced or not"},
		{"go.mod:32", "the replacement gopkg.in/square/go-jose.v2 is banned"},
		{"go.sum:2", "golang.org/x/crypto v0.34.0 is below the security floor v0.35.0"},
		{"go.sum:4", "github.com/gorilla/csrf is banned"},
		{"go.work:8", "the replacement github.com/golang-jwt/jwt/v4 v4.5.1 is below the security floor v4.5.2"},
		{"go.work.sum:1", "gopkg.in/go-jose/go-jose.v2 is banned"},
	})
}

// TestModuleGraphRuleCatchesRegressions runs the graph rule over planted
// listings: a banned module that no file of the module names, versions
// below a floor before and after replacement, a failed listing, and a
// module the files already report, which is not reported twice.
func TestModuleGraphRuleCatchesRegressions(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"go.mod":       goMod + "\nrequire github.com/gorilla/csrf v1.7.3\n",
		"a.go":         "package r\n",
		"go.work":      "go 1.25\n\nuse (\n\t.\n\t./sub\n)\n",
		"sub/go.mod":   "// Package sub.\n\nmodule example.com/r/sub\n\ngo 1.25\n",
		"tools/go.mod": "module example.com/r/tools\n\ngo 1.25\n",
	})
	mod := func(p, v string) graphModule { return graphModule{Path: p, Version: v} }
	replaced := func(p, v, rp, rv string) graphModule {
		return graphModule{Path: p, Version: v, Replace: &graphModule{Path: rp, Version: rv}}
	}
	graphs := map[string][]graphModule{
		"go.mod": {
			{Path: "example.com/r", Main: true},
			mod("github.com/gorilla/csrf", "v1.7.3"),                                     // go.mod:5 reports it
			mod("github.com/dgrijalva/jwt-go", "v3.2.0+incompatible"),                    // indirect: only the graph shows it
			replaced("golang.org/x/net", "v0.30.0", "golang.org/x/net", "v0.38.0"),       // fine: replaced by v0.38.0
			replaced("golang.org/x/crypto", "v0.40.0", "golang.org/x/crypto", "v0.30.0"), // replaced by v0.30.0
			replaced("github.com/golang-jwt/jwt/v5", "v5.2.1", "./jwt", ""),              // fine: a directory
			replaced("github.com/square/go-jose", "v2.6.0+incompatible", "./jose", ""),   // banned, replaced or not
			replaced("example.com/y", "v1.0.0", "gopkg.in/square/go-jose.v2", "v2.6.0"),  // a banned replacement
			mod("golang.org/x/oauth2", "v0.26.0"),
		},
		"go.work": {
			{Path: "example.com/r", Main: true},
			{Path: "example.com/r/sub", Main: true},
			mod("github.com/golang-jwt/jwt/v4", "v4.5.1"),
		},
	}
	list := func(dir, work string) ([]graphModule, error) {
		key := "go.mod"
		switch {
		case work != "":
			if filepath.Dir(work) != dir || filepath.Base(work) != "go.work" {
				t.Errorf("listing %s in workspace %s", dir, work)
			}
			key = "go.work"
		case filepath.Base(dir) == "sub":
			return nil, errors.New("exit status 1: go: planted failure")
		case filepath.Base(dir) == "tools":
			return []graphModule{{Path: "example.com/r/tools", Main: true}}, nil
		}
		return graphs[key], nil
	}
	rep := checkFindings(t, config{root: root, listGraph: list}, []want{
		{"go.mod:1", "the module graph (go list -m all): github.com/dgrijalva/jwt-go is banned"},
		{"go.mod:1", "the module graph (go list -m all): github.com/square/go-jose is banned"},
		{"go.mod:1", "the module graph (go list -m all): golang.org/x/crypto v0.30.0 is below the security floor v0.35.0"},
		{"go.mod:1", "the module graph (go list -m all): golang.org/x/oauth2 v0.26.0 is below the security floor v0.27.0"},
		{"go.mod:1", "the module graph (go list -m all): gopkg.in/square/go-jose.v2 is banned"},
		{"go.mod:5", "github.com/gorilla/csrf is banned"},
		{"go.work:1", "the workspace's module graph (go list -m all): github.com/golang-jwt/jwt/v4 v4.5.1 is below the security floor v4.5.2"},
		{"sub/go.mod:3", "go list -m all failed, so the module graph is unchecked: exit status 1: go: planted failure"},
	})
	if rep.graphs != 3 || rep.graphModules != 9 {
		t.Errorf("counted %d graphs and %d modules, want 3 and 9", rep.graphs, rep.graphModules)
	}
}

// TestGoListGraph runs the real lister over a module whose dependencies
// are local directories, so no network is needed: it sees the graph,
// requirements of requirements and replacements included.
func TestGoListGraph(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	root := writeTree(t, map[string]string{
		"go.mod": `module example.com/a

go 1.25

require example.com/dep v0.0.0

replace example.com/dep => ./dep

replace github.com/dgrijalva/jwt-go v3.2.0+incompatible => ./jwt
`,
		"a.go":       "package a\n",
		"dep/go.mod": "module example.com/dep\n\ngo 1.25\n\nrequire github.com/dgrijalva/jwt-go v3.2.0+incompatible\n",
		"jwt/go.mod": "module github.com/dgrijalva/jwt-go\n",
	})
	mods, err := goListGraph("go")(root, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mods {
		s := m.Path + " " + m.Version
		if m.Main {
			s += " (main)"
		}
		if m.Replace != nil {
			s += " => " + m.Replace.Path + " " + m.Replace.Version
		}
		got = append(got, strings.TrimSpace(s))
	}
	wantMods := []string{
		"example.com/a  (main)",
		"example.com/dep v0.0.0 => ./dep",
		"github.com/dgrijalva/jwt-go v3.2.0+incompatible => ./jwt",
	}
	if !slices.Equal(got, wantMods) {
		t.Errorf("go list -m all listed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantMods, "\n"))
	}
	if _, err := goListGraph("go")(filepath.Join(root, "nowhere"), ""); err == nil {
		t.Error("listing a directory that does not exist did not fail")
	}
}

// TestToolchainRule is S-67's toolchain rule: Go 1.25.2 or later, or a
// development toolchain.
func TestToolchainRule(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{"go.mod": goMod, "a.go": "package r\n"})
	for _, tc := range []struct {
		version string
		bad     bool
	}{
		{"go1.25.1", true},
		{"go1.25.0", true},
		{"go1.25rc2", true},
		{"go1.24.9", true},
		{"go1.25.2", false},
		{"go1.25.10", false},
		{"go1.26rc1", false},
		{"go1.26.8", false},
		{"go1.25.2 X:boringcrypto", false},
		{"devel go1.27-0123456789 Mon Jan 1 00:00:00 2026 +0000", false},
	} {
		var wants []want
		if tc.bad {
			wants = []want{{"go.mod:3", "the Go toolchain is " + tc.version + ", which lacks the net/http fixes"}}
		}
		t.Run(tc.version, func(t *testing.T) {
			checkFindings(t, config{root: root, goVersion: tc.version}, wants)
		})
	}
}

func TestCompareSemver(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"v5.2.2", "v5.2.2", 0},
		{"v5.2.1", "v5.2.2", -1},
		{"v5.10.0", "v5.9.9", 1},
		{"v5.2.2-rc.1", "v5.2.2", -1},
		{"v0.35.1-0.20250301000000-abcdef123456", "v0.35.0", 1},
		{"v0.27.0-0.20250101000000-abcdef123456", "v0.27.0", -1},
		{"v2.0.0+incompatible", "v2.0.0", 0},
		{"v1.0.0-rc.2", "v1.0.0-rc.10", -1},
		{"v1.0.0-alpha", "v1.0.0-beta", -1},
		{"v1.0.0-alpha", "v1.0.0-alpha.1", -1},
		{"v1.0.0-1", "v1.0.0-alpha", -1},
		{goVersionSemver("go1.25rc1"), goVersionSemver("go1.25.0"), -1},
		{goVersionSemver("go1.25"), "v1.25.0", 0},
	} {
		if got := compareSemver(tc.a, tc.b); got != tc.want {
			t.Errorf("compareSemver(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareSemver(tc.b, tc.a); got != -tc.want {
			t.Errorf("compareSemver(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestBannedPaths(t *testing.T) {
	t.Parallel()
	for mod, want := range map[string]bool{
		"github.com/dgrijalva/jwt-go":          true,
		"github.com/dgrijalva/jwt-go/v4":       true,
		"github.com/golang-jwt/jwt":            true,
		"github.com/golang-jwt/jwt/request":    true,
		"github.com/golang-jwt/jwt/v4":         false,
		"github.com/golang-jwt/jwt/v5":         false,
		"github.com/golang-jwt/jwt/v1":         true,
		"github.com/golang-jwt/jwt/v05":        true,
		"github.com/golang-jwt/jwe":            false,
		"github.com/form3tech-oss/jwt-go":      true,
		"github.com/gorilla/csrf":              true,
		"github.com/gorilla/securecookie":      false,
		"github.com/square/go-jose":            true,
		"github.com/square/go-jose/v3":         true,
		"gopkg.in/square/go-jose.v2":           true,
		"gopkg.in/go-jose/go-jose.v2":          true,
		"github.com/go-jose/go-jose/v4":        false,
		"github.com/dgrijalva/jwt-go-original": false,
	} {
		if _, got := banned(mod); got != want {
			t.Errorf("banned(%q) = %v, want %v", mod, got, want)
		}
	}
}

// TestRun checks the command's output and exit status: a summary line
// and 0, findings and 1, or 2 when the check cannot run.
func TestRun(t *testing.T) {
	t.Parallel()
	clean := writeTree(t, map[string]string{"go.mod": goMod, "a.go": "package r\n"})
	bad := writeTree(t, map[string]string{"go.mod": goMod, "a.go": "package r\n\nimport \"math/rand\"\n"})
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		stdout string // a prefix of each line
		lines  int
	}{
		{"clean", []string{"-nograph", clean}, 0, "seccheck: 1 Go files (1 production), 1 module files, module graphs not listed (-nograph), toolchain go1.26.0: no findings", 1},
		{"findings", []string{"-nograph", bad}, 1, "a.go:3: imports math/rand", 1},
		{"not a root", []string{"-nograph", filepath.Join(clean, "nowhere")}, 2, "", 0},
		{"two roots", []string{clean, bad}, 2, "", 0},
		{"bad flag", []string{"-nosuchflag"}, 2, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(tc.args, config{goVersion: "go1.26.0"}, &stdout, &stderr)
			lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if stdout.Len() == 0 {
				lines = nil
			}
			if status != tc.status || len(lines) != tc.lines || (tc.lines > 0 && !strings.HasPrefix(lines[0], tc.stdout)) {
				t.Errorf("status %d, stdout:\n%s\nstderr:\n%s\nwant status %d and %d lines starting %q", status, stdout.String(), stderr.String(), tc.status, tc.lines, tc.stdout)
			}
			if status == 2 && stderr.Len() == 0 {
				t.Error("status 2 and nothing on stderr")
			}
		})
	}
}
