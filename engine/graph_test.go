package engine_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
)

func shippedIncident(t *testing.T) *engine.Definition {
	src, err := os.ReadFile("../definitions/incident.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, string(src))
}

func TestMermaidShowsActionsTimersAndSLAs(t *testing.T) {
	m := engine.Mermaid(shippedIncident(t))
	for _, want := range []string{
		"stateDiagram-v2\n",
		"  [*] --> new\n",
		"  new --> in_progress : acknowledge [service-desk, tier1, tier2, tier3]\n",
		"  resolved --> closed : after 1w  close (timer)\n",
		"  closed --> [*]\n",
		"  note right of new : leaving stops SLA response\n",
		"  note right of pending_customer : pauses SLA resolution\n",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("missing %q in:\n%s", want, m)
		}
	}
}

func TestDOTShowsActionsTimersAndSLAs(t *testing.T) {
	d := engine.DOT(shippedIncident(t))
	for _, want := range []string{`"resolved" -> "closed" [label="after 1w: close (timer)", style=dashed];`, `"closed" [label="closed\nstops SLA resolution\nstops SLA replacement", peripheries=2];`} {
		if !strings.Contains(d, want) {
			t.Errorf("missing %q in:\n%s", want, d)
		}
	}
}

// TestDOTIsValidGraphviz renders every shipped definition with Graphviz, which
// CI installs, and requires each state in both drawings.
func TestDOTIsValidGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	for name, def := range shippedDefinitions(t) {
		t.Run(name, func(t *testing.T) {
			d, m := engine.DOT(def), engine.Mermaid(def)
			for _, st := range def.States {
				if !strings.Contains(d, `"`+st.Name+`"`) || !strings.Contains(m, " "+st.Name) {
					t.Fatalf("state %s is missing from the graph", st.Name)
				}
			}
			if err != nil {
				t.Skip("graphviz not installed; syntax not checked")
			}
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = strings.NewReader(d)
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "<svg") {
				t.Fatalf("dot rejected the graph: %v\n%s", err, out)
			}
		})
	}
}
