package scenario_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/scenario"
)

func load(t *testing.T, path string) (*scenario.File, *engine.Definition) {
	t.Helper()
	f, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(f.DefinitionPath())
	if err != nil {
		t.Fatal(err)
	}
	calSrc, err := os.ReadFile("../definitions/calendars.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cals, err := engine.ParseCalendars(calSrc)
	if err != nil {
		t.Fatal(err)
	}
	def, err := engine.ParseWith(src, cals)
	if err != nil {
		t.Fatal(err)
	}
	return f, def
}

// TestShippedScenarios runs every definitions/*.test.yaml, and the scenarios
// kept under testdata/scenarios for the decisions test.
func TestShippedScenarios(t *testing.T) {
	files, _ := filepath.Glob("../definitions/*.test.yaml")
	if len(files) == 0 {
		t.Fatal("no scenario files")
	}
	kept, _ := filepath.Glob("../testdata/scenarios/*.test.yaml")
	for _, file := range append(files, kept...) {
		f, def := load(t, file)
		for _, r := range f.Run(def) {
			t.Run(r.Name, func(t *testing.T) {
				for _, msg := range r.Failures {
					t.Error(msg)
				}
			})
		}
	}
}

// TestScenarioFailuresArePrecise runs scenarios whose expectations are wrong and
// requires a failure naming the step, the offset and the difference.
func TestScenarioFailuresArePrecise(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile("../definitions/incident.yaml")
	os.WriteFile(filepath.Join(dir, "incident.yaml"), src, 0o644)
	os.WriteFile(filepath.Join(dir, "calendars.yaml"), []byte("calendars: {}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "incident.test.yaml"), []byte(`tests:
  - name: wrong
    input: {title: x, priority: P1}
    steps:
      - at: 10m
        expect: {state: closed, slas: {response: {breached: true, due: "2026-01-05T09:45:00Z"}}, events: [sla_breached]}
      - {at: 11m, action: acknowledge, as: [requester]}
      - {at: 12m, action: acknowledge, as: [tier1], refused: forbidden}
`), 0o644)
	f, err := scenario.Load(filepath.Join(dir, "incident.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := engine.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Run(def)[0]
	got := strings.Join(r.Failures, "\n")
	for _, want := range []string{
		"step 1 (at 10m): state is new, want closed",
		"step 1 (at 10m): SLA response breached is false, want true",
		"step 1 (at 10m): SLA response is due 2026-01-05T09:30:00Z, want 2026-01-05T09:45:00Z",
		"step 1 (at 10m): no sla_breached event by then",
		"step 2 (at 11m): acknowledge was refused",
		"step 3 (at 12m): acknowledge was accepted, want it refused as forbidden",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing failure %q in:\n%s", want, got)
		}
	}
}

func TestLoadRejectsUnknownKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.test.yaml")
	os.WriteFile(p, []byte("tests:\n  - name: a\n    stpes: []\n"), 0o644)
	if _, err := scenario.Load(p); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("got %v", err)
	}
}
