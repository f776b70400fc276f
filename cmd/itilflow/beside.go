package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/itilflow/itilflow/engine"
)

// besideFlags find what a definition file refers to — the business calendars
// it names and the processes it starts — beside the file, so a command gives
// the same answer from any directory and reads a file's own calendars.
type besideFlags struct {
	calendars, definitions *string
}

func addBesideFlags(f *flags) besideFlags {
	return besideFlags{
		calendars: f.String("calendars", "", "business calendars the definitions may name (default: "+calendarsFile+
			" beside each file, else in --definitions, else in ./definitions)"),
		definitions: f.String("definitions", "", "directory of the calendars and the other definitions the files refer to (default: each file's own directory)"),
	}
}

// calendarsFor returns the calendars definition file may name and the file
// they were read from ("" when none was found: only 24x7 is known).
func (b besideFlags) calendarsFor(file string) (engine.Calendars, string, error) {
	if *b.calendars != "" {
		if _, err := os.Stat(*b.calendars); err != nil {
			return nil, "", fmt.Errorf("--calendars: %w", err)
		}
		cals, err := loadCalendars(*b.calendars)
		return cals, *b.calendars, err
	}
	candidates := []string{filepath.Join(filepath.Dir(file), calendarsFile)}
	if *b.definitions != "" {
		candidates = append(candidates, filepath.Join(*b.definitions, calendarsFile))
	}
	candidates = append(candidates, filepath.Join("definitions", calendarsFile))
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			cals, err := loadCalendars(c)
			return cals, c, err
		}
	}
	return nil, "", nil
}

// processes names the processes the files may start: their own and those of
// the definitions beside them and in --definitions.
func (b besideFlags) processes(files []string) []string {
	all := files
	if *b.definitions != "" {
		beside, _ := definitionFiles(*b.definitions)
		all = append(append([]string(nil), files...), beside...)
	}
	return knownProcesses(all)
}

// compile compiles one definition file as the given files' environment sees
// it, printing every problem as file:line:col to stderr, with a note when a
// calendar it names was not found because no calendars file was.
func (b besideFlags) compile(file string, processes []string, stderr io.Writer) (*engine.Definition, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	calendars, from, err := b.calendarsFor(file)
	if err != nil {
		return nil, err
	}
	def, err := engine.Compile(src, engine.Env{Calendars: calendars, Processes: processes})
	if err != nil {
		for _, line := range formatProblems(file, err) {
			fmt.Fprintln(stderr, line)
		}
		var e *engine.Error
		if errors.As(err, &e) && from == "" && namesUnknownCalendar(e) {
			fmt.Fprintf(stderr, "%s: note: no %s beside the file, in --definitions or in ./definitions: only 24x7 is known (give --calendars FILE or --definitions DIR)\n", file, calendarsFile)
		}
		if errors.As(err, &e) && processes != nil && len(processes) <= 1 && mentions(e, "no other process is known") {
			fmt.Fprintf(stderr, "%s: note: no other definition beside the file: give --definitions DIR to check the processes it starts\n", file)
		}
		return nil, fmt.Errorf("%s has problems", file)
	}
	return def, nil
}

func mentions(e *engine.Error, text string) bool {
	for _, d := range e.Details {
		if strings.Contains(d.Message, text) {
			return true
		}
	}
	return false
}

func namesUnknownCalendar(e *engine.Error) bool {
	for _, d := range e.Details {
		if d.Field == "calendar" && strings.Contains(d.Message, "is not defined") {
			return true
		}
	}
	return false
}
