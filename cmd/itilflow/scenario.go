package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/itilflow/itilflow/scenario"
)

// runTest implements `itilflow test [FILE...]`: it runs scenario tests (default:
// definitions/*.test.yaml) in the time-skipping test environment and prints the
// results like a test runner.
func runTest(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("test", getenv, stderr)
	beside := addBesideFlags(f)
	verbose := f.Bool("v", false, "list passing scenarios too")
	if err := f.parse(args); err != nil {
		return err
	}
	files := f.Args()
	if len(files) == 0 {
		files, _ = filepath.Glob("definitions/*.test.yaml")
		if len(files) == 0 {
			return errors.New("no scenario files: give FILE.test.yaml or run from the repository root")
		}
	}
	var all []scenario.Result
	for _, file := range files {
		sf, err := scenario.Load(file)
		if err != nil {
			return err
		}
		def, err := beside.compile(sf.DefinitionPath(), nil, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		fmt.Fprintf(stdout, "=== %s (%s)\n", file, sf.DefinitionPath())
		for _, r := range sf.Run(def) {
			all = append(all, r)
			switch {
			case !r.Passed():
				fmt.Fprintf(stdout, "--- FAIL: %s (%.2fs)\n", r.Name, r.Elapsed.Seconds())
				for _, msg := range r.Failures {
					fmt.Fprintf(stdout, "    %s\n", msg)
				}
			case *verbose:
				fmt.Fprintf(stdout, "--- PASS: %s (%.2fs)\n", r.Name, r.Elapsed.Seconds())
			}
		}
	}
	summary := scenario.Summary(all)
	fmt.Fprintf(stdout, "scenarios: %s\n", summary)
	for _, r := range all {
		if !r.Passed() {
			return errors.New("scenarios failed: " + summary)
		}
	}
	return nil
}
