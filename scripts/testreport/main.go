// Command testreport reads `go test -json` on stdin and says what the tests
// are doing: each package as it finishes, with its time and its slowest test;
// the output of every test that fails, as it fails; and, while nothing
// finishes for a while, which tests are still running. scripts/test pipes
// the tests through it, so a run of several minutes is never silent.
//
// It exits non-zero when a package failed or did not build.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json), including the build
// events of `go test -json` since Go 1.24.
type event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string
	FailedBuild string
}

func main() {
	module := flag.String("module", "", "module path to leave out of package names")
	verbose := flag.Bool("v", false, "also print the output of tests that pass")
	every := flag.Duration("every", 30*time.Second, "after this long without a package finishing, say what still runs")
	flag.Parse()
	r := newReport(os.Stdout, *module, *verbose)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				if !r.summary(time.Now()) {
					os.Exit(1)
				}
				return
			}
			r.line(line, time.Now())
		case now := <-tick.C:
			r.stillRunning(now, *every)
		}
	}
}

// pkg is what is known of one package's run.
type pkg struct {
	started time.Time
	running map[string]time.Time // tests running now, since when
	output  map[string][]string  // output of each test that has not passed yet
	slowest string
	slowSec float64
	failed  bool // a test failed, and its output was printed
}

type report struct {
	w        io.Writer
	module   string
	verbose  bool
	began    time.Time
	lastDone time.Time
	pkgs     map[string]*pkg
	builds   map[string][]string // build output by import path
	passed   int
	failed   []string
	noTests  int
}

func newReport(w io.Writer, module string, verbose bool) *report {
	now := time.Now()
	return &report{w: w, module: module, verbose: verbose, began: now, lastDone: now, pkgs: map[string]*pkg{}, builds: map[string][]string{}}
}

// name is a package's path as people type it: ./engine.
func (r *report) name(path string) string {
	if r.module != "" {
		if path == r.module {
			return "."
		}
		if rest, ok := strings.CutPrefix(path, r.module+"/"); ok {
			return "./" + rest
		}
	}
	return path
}

func (r *report) pkg(path string, now time.Time) *pkg {
	p := r.pkgs[path]
	if p == nil {
		p = &pkg{started: now, running: map[string]time.Time{}, output: map[string][]string{}}
		r.pkgs[path] = p
	}
	return p
}

func (r *report) line(line string, now time.Time) {
	var e event
	if err := json.Unmarshal([]byte(line), &e); err != nil || e.Action == "" {
		fmt.Fprintln(r.w, line) // not from test2json: pass it on
		return
	}
	switch e.Action {
	case "build-output":
		r.builds[e.ImportPath] = append(r.builds[e.ImportPath], e.Output)
		return
	case "build-fail":
		fmt.Fprintf(r.w, "BUILD FAILED %s\n%s", r.name(e.ImportPath), strings.Join(r.builds[e.ImportPath], ""))
		return
	}
	if e.Package == "" {
		return
	}
	p := r.pkg(e.Package, now)
	switch {
	case e.Action == "output":
		if r.verbose {
			fmt.Fprint(r.w, e.Output)
		}
		p.output[e.Test] = append(p.output[e.Test], e.Output)
	case e.Test != "" && (e.Action == "run" || e.Action == "cont"):
		p.running[e.Test] = now
	case e.Test != "" && e.Action == "pause":
		delete(p.running, e.Test)
	case e.Test != "" && e.Action == "fail":
		delete(p.running, e.Test)
		p.failed = true
		if !r.verbose {
			fmt.Fprintf(r.w, "--- FAIL %s %s (%.1fs)\n%s", r.name(e.Package), e.Test, e.Elapsed, strings.Join(p.output[e.Test], ""))
		}
		delete(p.output, e.Test)
	case e.Test != "" && (e.Action == "pass" || e.Action == "skip"):
		delete(p.running, e.Test)
		delete(p.output, e.Test)
		if !strings.Contains(e.Test, "/") && e.Elapsed > p.slowSec {
			p.slowest, p.slowSec = e.Test, e.Elapsed
		}
	case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
		r.done(e, p, now)
	}
}

// done reports a package that finished.
func (r *report) done(e event, p *pkg, now time.Time) {
	r.lastDone = now
	delete(r.pkgs, e.Package)
	slowest := ""
	if p.slowest != "" && p.slowSec >= 1 {
		slowest = fmt.Sprintf("   (slowest: %s %.1fs)", p.slowest, p.slowSec)
	}
	switch {
	case e.Action == "skip":
		r.noTests++
	case e.Action == "pass":
		r.passed++
		fmt.Fprintf(r.w, "ok    %-28s %7.1fs%s\n", r.name(e.Package), e.Elapsed, slowest)
	default:
		r.failed = append(r.failed, r.name(e.Package))
		// A package can fail with no test failing: a panic, a TestMain that
		// gave up, a build failure. Its own output says why.
		if !p.failed && e.FailedBuild == "" {
			fmt.Fprint(r.w, strings.Join(p.output[""], ""))
		}
		fmt.Fprintf(r.w, "FAIL  %-28s %7.1fs\n", r.name(e.Package), e.Elapsed)
	}
}

// stillRunning says which tests run, when no package has finished for
// a while.
func (r *report) stillRunning(now time.Time, quiet time.Duration) {
	if now.Sub(r.lastDone) < quiet {
		return
	}
	r.lastDone = now
	if len(r.pkgs) == 0 {
		// go test reports a package once its test binary starts.
		fmt.Fprintf(r.w, "...   %s in: compiling test binaries\n", now.Sub(r.began).Round(time.Second))
		return
	}
	var parts []string
	for path, p := range r.pkgs {
		type running struct {
			name  string
			since time.Time
		}
		var tests []running
		for name, since := range p.running {
			if !strings.Contains(name, "/") {
				tests = append(tests, running{name, since})
			}
		}
		sort.Slice(tests, func(i, j int) bool { return tests[i].since.Before(tests[j].since) })
		var names []string
		for i, t := range tests {
			if i == 3 {
				names = append(names, fmt.Sprintf("and %d more", len(tests)-3))
				break
			}
			names = append(names, fmt.Sprintf("%s %s", t.name, now.Sub(t.since).Round(time.Second)))
		}
		what := "starting"
		if len(names) > 0 {
			what = strings.Join(names, ", ")
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", r.name(path), what))
	}
	sort.Strings(parts)
	fmt.Fprintf(r.w, "...   %s in: still running %s\n", now.Sub(r.began).Round(time.Second), strings.Join(parts, "; "))
}

// summary prints the totals and reports whether everything passed.
func (r *report) summary(now time.Time) bool {
	took := now.Sub(r.began).Round(time.Second)
	if len(r.failed) > 0 {
		fmt.Fprintf(r.w, "tests: %d package(s) FAILED (%s), %d passed, in %s\n", len(r.failed), strings.Join(r.failed, ", "), r.passed, took)
		return false
	}
	if r.passed == 0 {
		fmt.Fprintf(r.w, "tests: no package ran a test, in %s\n", took)
		return false
	}
	fmt.Fprintf(r.w, "tests: %d packages passed (%d without tests), in %s\n", r.passed, r.noTests, took)
	return true
}
