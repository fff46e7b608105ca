package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// ban is why a module is banned.
type ban struct {
	reason string
	// laterMajors: the path's /vN modules (N ≥ 2) are other, maintained
	// modules, and are not banned (they may have a floor instead).
	laterMajors bool
}

// bannedModules are the modules with unfixed security defects or
// abandoned by their maintainers (S-69): JWT, JOSE and CSRF libraries a
// session library must not pull in. A ban covers the path and every
// module below it (path/...), /vN ones included unless laterMajors says
// otherwise.
var bannedModules = map[string]ban{
	"github.com/dgrijalva/jwt-go":     {reason: "unmaintained; CVE-2020-26160 (an \"aud\" array bypasses audience checks), unfixed; use github.com/golang-jwt/jwt/v5"},
	"github.com/form3tech-oss/jwt-go": {reason: "a fork of github.com/dgrijalva/jwt-go, no longer maintained; use github.com/golang-jwt/jwt/v5"},
	"github.com/golang-jwt/jwt":       {reason: "the v3 line is unmaintained; use github.com/golang-jwt/jwt/v5", laterMajors: true},
	"github.com/gorilla/csrf":         {reason: "CVE-2025-47909 (TrustedOrigins ignores the scheme), unfixed; use the csrf package"},
	"github.com/square/go-jose":       {reason: "archived and unmaintained; use github.com/go-jose/go-jose/v4"},
	"gopkg.in/square/go-jose.v2":      {reason: "archived and unmaintained; CVE-2024-28180 (decompression bomb), unfixed; use github.com/go-jose/go-jose/v4"},
	"gopkg.in/go-jose/go-jose.v2":     {reason: "the v2 line is no longer maintained; use github.com/go-jose/go-jose/v4"},
}

// floor is the lowest acceptable version of a module, and the defects
// fixed by it.
type floor struct {
	version string
	reason  string
}

// versionFloors are the lowest acceptable versions of modules with fixed
// defects (S-69).
var versionFloors = map[string]floor{
	"github.com/golang-jwt/jwt/v5":  {"v5.2.2", "CVE-2025-30204 (unbounded memory parsing a header)"},
	"github.com/golang-jwt/jwt/v4":  {"v4.5.2", "CVE-2025-30204 (unbounded memory parsing a header), CVE-2024-51744 (ParseWithClaims error handling)"},
	"github.com/go-jose/go-jose/v4": {"v4.0.5", "CVE-2025-27144 (unbounded memory parsing compact JWS/JWE), CVE-2024-28180 (decompression bomb)"},
	"github.com/go-jose/go-jose/v3": {"v3.0.4", "CVE-2025-27144 (unbounded memory parsing compact JWS/JWE)"},
	"golang.org/x/oauth2":           {"v0.27.0", "CVE-2025-22868 (unbounded memory parsing a JWS)"},
	"golang.org/x/crypto":           {"v0.35.0", "CVE-2025-22869 and CVE-2024-45337 (ssh)"},
	"golang.org/x/net":              {"v0.38.0", "CVE-2025-22872 (html tokenizer)"},
}

// banned returns the reason a module path is banned, if it is.
func banned(mod string) (string, bool) {
	for p, b := range bannedModules {
		if mod == p {
			return b.reason, true
		}
		rest, ok := strings.CutPrefix(mod, p+"/")
		if !ok {
			continue
		}
		if b.laterMajors && majorSuffix(rest) {
			continue
		}
		return b.reason, true
	}
	return "", false
}

// majorSuffix reports whether s is a major-version path element vN, N ≥ 2.
func majorSuffix(s string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "v"))
	return strings.HasPrefix(s, "v") && err == nil && n >= 2 && s == "v"+strconv.Itoa(n)
}

// moduleIssue is what the dependency rule says of one module at one
// version ("" when unknown), or "" if nothing. checkFloor is false where
// the version is not one that is built.
func moduleIssue(mod, version string, checkFloor bool) string {
	if why, ok := banned(mod); ok {
		return mod + " is banned: " + why + " (S-69)"
	}
	if f, ok := versionFloors[mod]; ok && checkFloor && strings.HasPrefix(version, "v") && compareSemver(version, f.version) < 0 {
		return fmt.Sprintf("%s %s is below the security floor %s: %s (S-69)", mod, version, f.version, f.reason)
	}
	return ""
}

// checkModuleFiles is S-69's rule over the files: every require and
// replace line of every go.mod and go.work, and every line of every
// go.sum and go.work.sum. It also returns which modules it reported in
// which file ("file module"), so that the graph check does not repeat
// them.
func checkModuleFiles(root string, files []string) ([]finding, map[string]bool, error) {
	var out []finding
	reported := map[string]bool{}
	report := func(file string, line int, mod, msg string) {
		out = append(out, finding{file, line, msg})
		reported[file+" "+mod] = true
	}
	for _, file := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			return nil, nil, err
		}
		sum := strings.HasSuffix(file, ".sum")
		block := ""
		for i, line := range strings.Split(string(data), "\n") {
			n := i + 1
			fields := strings.Fields(line)
			if sum {
				if len(fields) < 2 {
					continue
				}
				ver, goModOnly := strings.CutSuffix(fields[1], "/go.mod")
				if msg := moduleIssue(fields[0], ver, !goModOnly); msg != "" {
					report(file, n, fields[0], msg)
				}
				continue
			}
			verb, args := directive(&block, stripComment(line))
			switch verb {
			case "require":
				if len(args) >= 2 {
					if msg := moduleIssue(args[0], args[1], true); msg != "" {
						report(file, n, args[0], msg)
					}
				}
			case "replace":
				old, repl, ok := strings.Cut(strings.Join(args, " "), "=>")
				if !ok {
					continue
				}
				if f := strings.Fields(old); len(f) > 0 {
					if why, ok := banned(f[0]); ok {
						report(file, n, f[0], f[0]+" is banned, replaced or not: "+why+" (S-69)")
					}
				}
				if f := strings.Fields(repl); len(f) >= 2 {
					if msg := moduleIssue(f[0], f[1], true); msg != "" {
						report(file, n, f[0], "the replacement "+msg)
					}
				}
			}
		}
	}
	return out, reported, nil
}

// directive splits one comment-free line of a go.mod or go.work into its
// verb and arguments, following blocks ("require (" ... ")") through
// *block. Lines that open or close a block return "".
func directive(block *string, line string) (verb string, args []string) {
	fields := strings.Fields(line)
	for i, f := range fields {
		fields[i] = strings.Trim(f, `"`)
	}
	switch {
	case len(fields) == 0:
		return "", nil
	case *block != "":
		if fields[0] == ")" {
			*block = ""
			return "", nil
		}
		return *block, fields
	case fields[len(fields)-1] == "(":
		*block = fields[0]
		return "", nil
	case strings.HasSuffix(fields[0], "(") && len(fields) == 1:
		*block = strings.TrimSuffix(fields[0], "(")
		return "", nil
	}
	return fields[0], fields[1:]
}

// graphModule is one module of a listed module graph, as "go list -m
// -json" prints it.
type graphModule struct {
	Path    string
	Version string
	Main    bool
	Replace *graphModule
}

// graphLister lists the module graph of the module in dir ("go list -m
// all"): with GOWORK=off if work is "", else in the workspace of the
// go.work file work.
type graphLister func(dir, work string) ([]graphModule, error)

// goListGraph is the graphLister that runs the go command goCmd.
func goListGraph(goCmd string) graphLister {
	return func(dir, work string) ([]graphModule, error) {
		cmd := exec.Command(goCmd, "list", "-m", "-json", "all")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if work != "" {
			cmd.Env = append(os.Environ(), "GOWORK="+work)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			var lines []string
			for _, l := range strings.Split(stderr.String(), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					lines = append(lines, l)
				}
			}
			msg := strings.Join(lines, "; ")
			if len(msg) > 500 {
				msg = msg[:500] + "..."
			}
			return nil, fmt.Errorf("%v: %s", err, msg)
		}
		var mods []graphModule
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			var m graphModule
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, err
			}
			mods = append(mods, m)
		}
		return mods, nil
	}
}

// checkModuleGraphs is S-69's rule over the resolved module graphs: that
// of every module on its own (GOWORK=off) and that of every workspace,
// from "list". Modules that checkModuleFiles already reported in the
// same go.mod or go.work are left out. It returns the findings, the
// number of graphs listed and the modules they held.
func checkModuleGraphs(root string, files []string, reported map[string]bool, list graphLister) (out []finding, graphs, modules int) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return []finding{{"go.mod", 1, "the module graphs are unchecked: " + err.Error()}}, 0, 0
	}
	type result struct {
		mods []graphModule
		err  error
	}
	var targets []string
	for _, f := range files {
		if path.Base(f) == "go.mod" || path.Base(f) == "go.work" {
			targets = append(targets, f)
		}
	}
	results := make([]result, len(targets))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, file := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			abs := filepath.Join(absRoot, filepath.FromSlash(file))
			work := ""
			if path.Base(file) == "go.work" {
				work = abs
			}
			results[i].mods, results[i].err = list(filepath.Dir(abs), work)
		}()
	}
	wg.Wait()
	for i, file := range targets {
		line, what := 1, "the module graph"
		if path.Base(file) == "go.work" {
			what = "the workspace's module graph"
		} else if data, err := os.ReadFile(filepath.Join(absRoot, filepath.FromSlash(file))); err == nil {
			line = directiveLine(data, "module")
		}
		r := results[i]
		if r.err != nil {
			out = append(out, finding{file, line, "go list -m all failed, so " + what + " is unchecked: " + r.err.Error()})
			continue
		}
		graphs++
		for _, m := range r.mods {
			if m.Main {
				continue
			}
			modules++
			for _, mod := range []*graphModule{&m, m.Replace} {
				if mod == nil || reported[file+" "+mod.Path] {
					continue
				}
				// The floor applies to what is built: the replacement when
				// there is one (none, for a local directory).
				build := m.Replace == nil || mod == m.Replace
				if msg := moduleIssue(mod.Path, mod.Version, build); msg != "" {
					out = append(out, finding{file, line, what + " (go list -m all): " + msg})
					reported[file+" "+mod.Path] = true
				}
			}
		}
	}
	return out, graphs, modules
}

// directiveLine returns the line number of the first verb directive of a
// go.mod or go.work, or 1.
func directiveLine(data []byte, verb string) int {
	for i, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(stripComment(line)); len(f) > 0 && f[0] == verb {
			return i + 1
		}
	}
	return 1
}

// compareSemver compares two semantic versions ("v1.2.3", with an
// optional pre-release and build suffix) as semver.org orders them: a
// pre-release, and so a pseudo-version, comes before its release.
func compareSemver(a, b string) int {
	an, ap := splitSemver(a)
	bn, bp := splitSemver(b)
	for i := range an {
		if c := cmp.Compare(an[i], bn[i]); c != 0 {
			return c
		}
	}
	switch {
	case ap == bp:
		return 0
	case ap == "":
		return 1
	case bp == "":
		return -1
	}
	as, bs := strings.Split(ap, "."), strings.Split(bp, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		x, xerr := strconv.ParseUint(as[i], 10, 64)
		y, yerr := strconv.ParseUint(bs[i], 10, 64)
		switch {
		case xerr == nil && yerr == nil:
			return cmp.Compare(x, y)
		case xerr == nil:
			return -1
		case yerr == nil:
			return 1
		}
		return strings.Compare(as[i], bs[i])
	}
	return cmp.Compare(len(as), len(bs))
}

// splitSemver returns a version's major, minor and patch numbers and its
// pre-release ("" if none), without any build suffix.
func splitSemver(v string) ([3]int, string) {
	v = strings.TrimPrefix(v, "v")
	v, _, _ = strings.Cut(v, "+")
	core, pre, _ := strings.Cut(v, "-")
	var nums [3]int
	for i, p := range strings.SplitN(core, ".", 3) {
		nums[i], _ = strconv.Atoi(p)
	}
	return nums, pre
}

// goVersionSemver turns a Go toolchain version ("go1.25.2", "go1.26rc1",
// "go1.25.2 X:boringcrypto") into a semantic version ("v1.25.2",
// "v1.26.0-rc1").
func goVersionSemver(v string) string {
	if f := strings.Fields(v); len(f) > 0 {
		v = f[0]
	}
	v = strings.TrimPrefix(v, "go")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	end := strings.IndexFunc(v, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
	core, pre := v, ""
	if end >= 0 {
		core, pre = v[:end], v[end:]
	}
	for strings.Count(core, ".") < 2 {
		core += ".0"
	}
	if pre != "" {
		return "v" + core + "-" + pre
	}
	return "v" + core
}

// minToolchain is the oldest Go toolchain that may build and test the
// repository (S-67).
const minToolchain = "go1.25.2"

// checkToolchain is S-67's toolchain rule: Keycard relies on net/http for
// header size limits and CSRF origin checks, and go.mod allows Go 1.25.0,
// so the toolchain that builds and tests it, version, must carry the
// fixes of CVE-2025-47910 (CrossOriginProtection bypass patterns, Go
// 1.25.1) and CVE-2025-58186 (unbounded cookie count, Go 1.25.2). A
// development toolchain ("devel ...") is not judged. The finding is
// placed at the root go.mod's go directive.
func checkToolchain(root, version string) []finding {
	if !strings.HasPrefix(version, "go1.") {
		return nil
	}
	if compareSemver(goVersionSemver(version), goVersionSemver(minToolchain)) >= 0 {
		return nil
	}
	line := 1
	if data, err := os.ReadFile(filepath.Join(root, "go.mod")); err == nil {
		line = directiveLine(data, "go")
	}
	return []finding{{"go.mod", line, "the Go toolchain is " + version + ", which lacks the net/http fixes of CVE-2025-47910 and CVE-2025-58186; build and test with " + minToolchain + " or later (S-67)"}}
}
