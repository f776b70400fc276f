// Command bench measures itilflow's interpreter workflow against a native
// workflow of the same incident lifecycle, and how late dev shows SLA
// breaches. scripts/bench runs it; its output is one key=value a line.
//
//	bench [flags] [all|compare|lateness]   (default all: compare, then lateness)
//	bench [flags] scale N                  (dev's heap and lateness at 1,000 and N open)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/itilflow/itilflow/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	definitions := fs.String("definitions", "definitions", "directory of the shipped definitions")
	dataDir := fs.String("data-dir", "", "directory for the stacks' data (default: a new temporary directory, removed at the end)")
	rounds := fs.Int("rounds", 5, "compare: interleaved rounds of each workflow at each concurrency")
	perC1 := fs.Int("per-round-c1", 10, "compare: lifecycles per round at concurrency 1")
	perC20 := fs.Int("per-round-c20", 60, "compare: lifecycles per round at concurrency 20")
	samples := fs.Int("samples", 10, "compare: lifecycles of each workflow whose history events are counted")
	binary := fs.String("itilflow", "", "lateness, scale: the itilflow binary to run dev from (required)")
	open := fs.Int("open", 1000, "lateness: incidents whose response deadline is watched")
	target := fs.Duration("target", 60*time.Second, "lateness, scale: the response target of the watched incidents")
	starters := fs.Int("starters", 8, "lateness, scale: concurrent starts")
	probes := fs.Int("probes", 100, "scale: incidents watched at each size")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	mode, rest := "all", fs.Args()
	if len(rest) > 0 {
		mode, rest = rest[0], rest[1:]
	}
	dir, cleanup, err := workDir(*dataDir)
	if err != nil {
		return err
	}
	defer cleanup()
	out := bench.NewOutput(stdout)
	out.Put("load_avg_start", loadAvg())
	compare := func() error {
		return runCompare(ctx, dir, *definitions, bench.CompareOptions{Rounds: *rounds, PerRound: map[int]int{1: *perC1, 20: *perC20}, Samples: *samples}, out, stderr)
	}
	dev := bench.DevOptions{Binary: *binary, Definitions: *definitions, Dir: dir, Log: stderr}
	lateness := func() error {
		return bench.Lateness(ctx, dev, bench.LatenessOptions{Open: *open, Target: *target, Starters: *starters}, out, stderr)
	}
	switch mode {
	case "all":
		if err := compare(); err != nil {
			return err
		}
		err = lateness()
	case "compare":
		err = compare()
	case "lateness":
		err = lateness()
	case "scale":
		if len(rest) != 1 {
			return fmt.Errorf("scale needs the number of open incidents, as in: scale 10000")
		}
		n, perr := strconv.Atoi(rest[0])
		if perr != nil || n < 1 {
			return fmt.Errorf("scale %q: not a positive number", rest[0])
		}
		err = bench.Scale(ctx, dev, bench.ScaleOptions{Sizes: scaleSizes(n), Probes: *probes, Target: *target, Starters: *starters}, out, stderr)
	default:
		return fmt.Errorf("unknown mode %q: all, compare, lateness or scale N", mode)
	}
	if err != nil {
		return err
	}
	out.Put("load_avg_end", loadAvg())
	return out.Err()
}

// scaleSizes are the numbers of open incidents the scale run measures at:
// 1,000 (or n, if smaller) and n.
func scaleSizes(n int) []int {
	if n <= 1000 {
		return []int{n}
	}
	return []int{1000, n}
}

func runCompare(ctx context.Context, dir, definitions string, opts bench.CompareOptions, out *bench.Output, log io.Writer) error {
	s, err := bench.StartStack(ctx, dir+"/compare", definitions)
	if err != nil {
		return err
	}
	defer s.Stop()
	return bench.Compare(ctx, bench.Driver{Temporal: s.Temporal, Store: s.Store, Incident: s.Incident}, opts, out, log)
}

// workDir is the given directory, or a new temporary one removed by cleanup.
func workDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o755)
	}
	tmp, err := os.MkdirTemp("", "itilflow-bench-")
	if err == nil {
		// PostgreSQL runs as its own user when we are root and must reach it.
		err = os.Chmod(tmp, 0o755)
	}
	if err != nil {
		return "", nil, fmt.Errorf("bench data directory: %w", err)
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// loadAvg is the machine's 1, 5 and 15 minute load averages (Linux), which
// say how much the figures were shared with.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ",")
}
