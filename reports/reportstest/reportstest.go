// Package reportstest gives tests the shipped definitions, calendars and
// report configuration, compiled as dev publishes them.
package reportstest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/reports"
)

// Shipped compiles the definitions and calendars in dir (the repository's
// definitions/).
func Shipped(t testing.TB, dir string) (map[string]*engine.Definition, engine.Calendars) {
	t.Helper()
	calSrc, err := os.ReadFile(filepath.Join(dir, "calendars.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cals, err := engine.ParseCalendars(calSrc)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	defs := map[string]*engine.Definition{}
	for _, f := range files {
		switch base := filepath.Base(f); {
		case strings.HasSuffix(base, ".test.yaml"), base == "calendars.yaml", base == "dev-users.yaml", base == reports.File:
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := engine.ParseWith(src, cals)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		defs[d.Name] = d
	}
	return defs, cals
}

// Config reads dir's report configuration against its definitions, as dev
// does at start.
func Config(t testing.TB, dir string) *reports.Config {
	t.Helper()
	defs, cals := Shipped(t, dir)
	src, err := os.ReadFile(filepath.Join(dir, reports.File))
	if err != nil {
		t.Fatal(err)
	}
	c, err := reports.Parse(src, defs, cals)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
