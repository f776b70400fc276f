package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchDir is a directory for a run's data that PostgreSQL, which runs as
// its own user when the tests run as root, can reach (t.TempDir's is 0700).
func benchDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "itilflow-bench-test-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// figures parses key=value lines.
func figures(t *testing.T, out string) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not key=value: %q", line)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s=%q is not a number", k, v)
		}
		got[k] = f
	}
	return got
}

// checkFigures fails unless every key is there and within [lo, hi].
func checkFigures(t *testing.T, got map[string]float64, lo, hi float64, keys ...string) {
	t.Helper()
	for _, k := range keys {
		v, ok := got[k]
		if !ok {
			t.Errorf("no %s in %v", k, got)
			continue
		}
		if v < lo || v > hi {
			t.Errorf("%s=%v, outside [%v, %v]", k, v, lo, hi)
		}
	}
}

// Each mode at a tiny size prints every figure with a sane value. Nothing
// here asserts performance: the bounds only catch a broken measurement.
func TestModes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal, PostgreSQL and dev")
	}
	ctx := context.Background()
	definitions, err := filepath.Abs("../definitions")
	if err != nil {
		t.Fatal(err)
	}
	dir := benchDir(t)
	binary := filepath.Join(dir, "itilflow")
	built := make(chan error, 1)
	go func() {
		out, err := exec.Command("go", "build", "-o", binary, "../cmd/itilflow").CombinedOutput()
		if err != nil {
			err = &buildError{err: err, out: string(out)}
		}
		built <- err
	}()
	var log bytes.Buffer
	defer func() {
		if t.Failed() {
			t.Log(log.String())
		}
	}()

	t.Run("compare", func(t *testing.T) {
		s, err := StartStack(ctx, filepath.Join(dir, "compare"), definitions)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop()
		var out bytes.Buffer
		err = Compare(ctx, Driver{Temporal: s.Temporal, Store: s.Store, Incident: s.Incident},
			CompareOptions{Rounds: 1, PerRound: map[int]int{1: 2, 20: 3}, Samples: 1}, NewOutput(&out), &log)
		if err != nil {
			t.Fatal(err)
		}
		got := figures(t, out.String())
		checkFigures(t, got, 0.01, 100, "ratio_c1", "ratio_c20")
		checkFigures(t, got, 0.01, 10_000, "lps_interp_c1", "lps_native_c1", "lps_interp_c20", "lps_native_c20")
		checkFigures(t, got, 0.01, 30_000, "update_p50_interp", "update_p99_interp", "update_p50_native", "update_p99_native")
		// A lifecycle is six updates, each at least accepted and completed.
		checkFigures(t, got, 12, 500, "events_interp", "events_native")
	})

	if err := <-built; err != nil {
		t.Fatal(err)
	}
	dev := DevOptions{Binary: binary, Definitions: definitions, Dir: dir, Log: &log}
	t.Run("lateness", func(t *testing.T) {
		var out bytes.Buffer
		if err := Lateness(ctx, dev, LatenessOptions{Open: 20, Target: 3 * time.Second, Starters: 4}, NewOutput(&out), &log); err != nil {
			t.Fatal(err)
		}
		got := figures(t, out.String())
		checkFigures(t, got, 0, 60_000, "lateness_p50_ms", "lateness_p99_ms", "lateness_max_ms")
		checkFigures(t, got, 20, 20, "open")
		checkFigures(t, got, 0, 0, "missed")
		checkFigures(t, got, 0.01, 10_000, "start_rate")
	})
	t.Run("scale", func(t *testing.T) {
		var out bytes.Buffer
		err := Scale(ctx, dev, ScaleOptions{Sizes: []int{10, 20}, Probes: 3, Target: 3 * time.Second, Starters: 4}, NewOutput(&out), &log)
		if err != nil {
			t.Fatal(err)
		}
		got := figures(t, out.String())
		checkFigures(t, got, 1, 100_000, "heap_inuse_mb_open0", "heap_inuse_mb_open10", "heap_inuse_mb_open20")
		checkFigures(t, got, 0, 60_000, "lateness_p50_ms_open10", "lateness_max_ms_open20")
		checkFigures(t, got, 10, 10, "open_open10")
		checkFigures(t, got, 20, 20, "open_open20")
		checkFigures(t, got, 0.01, 10_000, "start_rate_open10", "start_rate_open20")
	})
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build itilflow: " + e.err.Error() + "\n" + e.out }
