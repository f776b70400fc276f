package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/reports"
	"github.com/itilflow/itilflow/scenario"
)

// runValidate checks definition files and prints every problem as
// file:line:col: message, like a compiler. It fails if any file has a problem.
func runValidate(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("validate", getenv, stderr)
	beside := addBesideFlags(f)
	if err := f.parse(args); err != nil {
		return err
	}
	files := f.Args()
	if len(files) == 0 {
		return fmt.Errorf("usage: itilflow validate [--calendars FILE] [--definitions DIR] FILE...")
	}
	processes := beside.processes(files)
	bad := 0
	for _, file := range files {
		if _, err := os.Stat(file); err != nil {
			return err
		}
		switch base := filepath.Base(file); {
		case base == calendarsFile:
			if _, err := loadCalendars(file); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: ok\n", file)
			continue
		case strings.HasSuffix(base, ".test.yaml"):
			if _, err := scenario.Load(file); err != nil {
				bad++
				fmt.Fprintln(stderr, err)
				continue
			}
			fmt.Fprintf(stdout, "%s: ok (scenario tests)\n", file)
			continue
		case base == reports.File:
			if err := beside.validateReports(file); err != nil {
				bad++
				fmt.Fprintln(stderr, err)
				continue
			}
			fmt.Fprintf(stdout, "%s: ok (reports)\n", file)
			continue
		case nonProcessFiles[base]:
			fmt.Fprintf(stdout, "%s: skipped (not a process definition)\n", file)
			continue
		}
		if _, err := beside.compile(file, processes, stderr); err != nil {
			bad++
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", file)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d file(s) have problems", bad, len(files))
	}
	return nil
}

// knownProcesses names the processes a start step may start: those of the files
// given and of the definition files beside them. It reads only each file's name,
// so a file with problems still counts.
func knownProcesses(files []string) []string {
	seen := map[string]bool{}
	var names []string
	add := func(file string) {
		src, err := os.ReadFile(file)
		if err != nil {
			return
		}
		if name := definitionName(src); name != "" && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	dirs := map[string]bool{}
	for _, file := range files {
		add(file)
		dirs[filepath.Dir(file)] = true
	}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		beside, _ := definitionFiles(dir)
		for _, file := range beside {
			add(file)
		}
	}
	sort.Strings(names)
	return names
}

// definitionName reads only a definition's name, so a file with problems still
// has one; "" if it has none.
func definitionName(src []byte) string {
	var head struct {
		Name string `yaml:"name"`
	}
	if yaml.Unmarshal(src, &head) != nil {
		return ""
	}
	return head.Name
}

// validateReports checks a reports.yaml against the definitions in its
// directory, as dev and serve check it against those they publish. A
// definition beside it that does not compile is left out: its own line says
// what is wrong with it.
func (b besideFlags) validateReports(file string) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	calendars, _, err := b.calendarsFor(file)
	if err != nil {
		return err
	}
	files, err := definitionFiles(filepath.Dir(file))
	if err != nil {
		return err
	}
	env := engine.Env{Calendars: calendars, Processes: knownProcesses(files)}
	defs := map[string]*engine.Definition{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if d, err := engine.Compile(src, env); err == nil {
			defs[d.Name] = d
		}
	}
	if _, err := reports.Parse(src, defs, calendars); err != nil {
		return errors.New(strings.Join(formatProblems(file, err), "\n"))
	}
	return nil
}
