// Command seccheck runs the repository-wide static security checks of
// docs/SECURITY.md: the rules best enforced by reading the code and the
// module files rather than by running anything. "make lint" runs it:
//
//	go run ./internal/cmd/seccheck [-go cmd] [-nograph] [root]
//
// root is the repository root (default "."); it must hold a go.mod. -go
// names the go command that lists the module graphs (default "go"), and
// -nograph leaves the graphs out, for a check that needs no module cache
// (make lint lists them). Every directory under root is read, so every
// module of the repository is checked, whether or not go.work uses it;
// directories named testdata or vendor, or starting with "." or "_", are
// skipped. Each finding is
// printed as "file:line: message" (file relative to root) and the exit
// status is 1; with none, one summary line is printed and the status is
// 0. Status 2 means the check could not run.
//
// The rules, by requirement:
//
//   - S-01 (math/rand): no production file imports math/rand or
//     math/rand/v2, and none imports a test-support package of the
//     repository. Test-support packages, whose directory names end in
//     "test" (keycardtest, store/storetest), may use math/rand for load
//     generation; _test.go files are not production code.
//   - S-61 (constant-time comparisons): no ==, !=, switch, bytes.Equal,
//     strings.EqualFold or other variable-time comparison applies to a
//     value whose name says it is a MAC, signature, tag, hash, CSRF token
//     or secret, in any production file. Comparisons with a constant and
//     of lengths are allowed. The few reviewed exceptions are listed in
//     reviewedComparisons with their reasons; an entry that no longer
//     matches anything is reported too, so the list cannot go stale.
//   - S-43 (verify before reading): no non-test file calls
//     UnsafeClaimsWithoutVerification, UnsafePayloadWithoutVerification
//     or ParseUnverified.
//   - S-69 (dependencies): no banned module (bannedModules, each with its
//     reason) and no module below its security floor (versionFloors).
//   - S-67 (toolchain): the Go toolchain that builds this program, which
//     under "make" is the one that builds and tests the repository, has
//     the net/http fixes of Go 1.25.2.
//
// # What the dependency rule reads, and why
//
// It reads two things, and each catches what the other can miss.
//
// The files: every go.mod, go.work, go.sum and go.work.sum. A require or
// replace line of a banned module, or at a version below its floor, is a
// finding; exclude and retract lines are not (they keep versions out). In
// a sum file a banned module is a finding on any line, because a go.sum
// line, even a "/go.mod" one, means the module is in the requirement
// graph; but a version floor applies only to lines with a module's
// content hash. "go mod tidy" also keeps "/go.mod" lines for older
// versions that minimal version selection read and passed over, and
// those are never built, so flagging them would only report what cannot
// be fixed. The files are checked without the network and catch a
// regression at the line that brings it.
//
// The graphs: "go list -m -json all" in every module with GOWORK=off,
// which is the build list that module's users start from, and once in
// workspace mode at the root, which is what the tests build with. This
// is the selected version of every module in the graph, after
// replacements, which the files show only indirectly. It needs the module
// cache, or the proxy, for any go.mod file that is not there yet, as the
// rest of "make lint" does; a listing that fails is a finding, since an
// unread graph cannot be vouched for. A graph finding for a module that
// the same go.mod or go.work already reports is not repeated.
//
// Both readings are strict about banned modules: a banned path is
// reported even when a replace directive swaps its code for something
// else, because the path is still in the graph. Version floors apply to
// the replacement's version when there is one; a replacement by a local
// directory has no version and is the repository's own code. None of
// this replaces govulncheck ("make vulncheck"), which knows every
// published vulnerability; this keeps the known-bad list out of the
// build even where the vulnerability database cannot be reached.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
)

func main() {
	os.Exit(run(os.Args[1:], config{reviewed: reviewedComparisons, goVersion: runtime.Version()}, os.Stdout, os.Stderr))
}

// run is main with its arguments, its configuration but for the root and
// the graph lister, and its output streams; it returns the exit status.
func run(args []string, cfg config, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("seccheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	goCmd := flags.String("go", "go", "the go command that lists the module graphs")
	noGraph := flags.Bool("nograph", false, "check the go.mod and go.sum files only, not the module graphs (go list -m all)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: seccheck [-go cmd] [-nograph] [root]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 1 {
		flags.Usage()
		return 2
	}
	cfg.root = "."
	if flags.NArg() == 1 {
		cfg.root = flags.Arg(0)
	}
	if !*noGraph {
		cfg.listGraph = goListGraph(*goCmd)
	}
	rep, err := check(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "seccheck:", err)
		return 2
	}
	for _, f := range rep.findings {
		fmt.Fprintln(stdout, f)
	}
	if len(rep.findings) > 0 {
		return 1
	}
	graphs := fmt.Sprintf("%d module graphs (%d modules)", rep.graphs, rep.graphModules)
	if cfg.listGraph == nil {
		graphs = "module graphs not listed (-nograph)"
	}
	fmt.Fprintf(stdout, "seccheck: %d Go files (%d production), %d module files, %s, toolchain %s: no findings\n",
		rep.goFiles, rep.productionFiles, rep.moduleFiles, graphs, cfg.goVersion)
	return 0
}

// finding is one broken rule, at a line of a file.
type finding struct {
	file string // relative to the root, slash-separated
	line int
	msg  string
}

// String formats a finding as "file:line: message".
func (f finding) String() string {
	return fmt.Sprintf("%s:%d: %s", f.file, f.line, f.msg)
}

// config is what one check reads, and what it compares against.
type config struct {
	root string
	// reviewed are the variable-time comparisons known to be safe
	// (reviewedComparisons; the tests plant their own).
	reviewed map[string]string
	// goVersion is the toolchain's version, as runtime.Version reports
	// it.
	goVersion string
	// listGraph lists a module graph (goListGraph; the tests plant their
	// own); nil skips the graph checks.
	listGraph graphLister
}

// report is the outcome of a check.
type report struct {
	findings        []finding
	goFiles         int // non-test Go files read
	productionFiles int // of which outside test-support packages
	moduleFiles     int // go.mod, go.work, go.sum and go.work.sum files read
	graphs          int // module graphs listed
	graphModules    int // modules in them, counted once per graph
}

// check runs every rule over the repository at cfg.root. Findings are
// sorted by file and line; an error means the check could not run.
func check(cfg config) (report, error) {
	var rep report
	if _, err := os.Stat(cfg.root + "/go.mod"); err != nil {
		return rep, errors.New("the root " + cfg.root + " holds no go.mod; run seccheck at the repository root")
	}
	repo, err := readRepo(cfg.root)
	if err != nil {
		return rep, err
	}
	rep.goFiles = len(repo.sources)
	for _, f := range repo.sources {
		if !testSupport(f.dir) {
			rep.productionFiles++
		}
	}
	rep.moduleFiles = len(repo.modFiles)

	rep.findings = append(rep.findings, repo.parseErrors...)
	rep.findings = append(rep.findings, checkMathRand(repo)...)
	rep.findings = append(rep.findings, checkComparisons(repo, cfg.reviewed)...)
	rep.findings = append(rep.findings, checkUnverifiedParsing(repo)...)
	fileFindings, reported, err := checkModuleFiles(cfg.root, repo.modFiles)
	if err != nil {
		return rep, err
	}
	rep.findings = append(rep.findings, fileFindings...)
	if cfg.listGraph != nil {
		graphFindings, graphs, modules := checkModuleGraphs(cfg.root, repo.modFiles, reported, cfg.listGraph)
		rep.findings = append(rep.findings, graphFindings...)
		rep.graphs, rep.graphModules = graphs, modules
	}
	rep.findings = append(rep.findings, checkToolchain(cfg.root, cfg.goVersion)...)
	sortFindings(rep.findings)
	return rep, nil
}
