package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/itilflow/itilflow/history"
)

const ticker = `name: ticker
input:
  title: {type: string, required: true}
variables:
  ticks: {type: int, default: 0}
initial: open
states:
  open:
    reminders:
      - every: 1s
        do: [{set: {ticks: "= vars.ticks + 1"}}]
    actions:
      close: {to: closed, roles: [service-desk]}
  closed: {final: true}
`

// TestAProcessContinuesAsNewOnTheRealStack runs a process that acts every
// second under a run limit of 100 events: it continues as new, and its record
// — projection, timeline, as_of, replay — is whole across its runs. With
// -update-golden its runs are recorded as golden histories.
func TestAProcessContinuesAsNewOnTheRealStack(t *testing.T) {
	cfg := newDevConfig(t)
	cfg.extra = []string{"--run-max-events", "100"}
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(201, "PUT", "/api/v1/definitions/ticker", "dev-process-owner", ticker)
	id := c.must(201, "POST", "/api/v1/processes/ticker", "dev-requester", map[string]any{"input": map[string]any{"title": "tick"}})["id"].(string)
	mid := time.Now().Add(12 * time.Second)
	time.Sleep(24 * time.Second) // about six events a tick: two runs at least
	c.must(200, "POST", "/api/v1/processes/"+id+"/actions/close", "dev-service-desk", map[string]any{"comment": "enough"})
	p := c.waitFor(id, "closed", func(p map[string]any) bool { return p["ended_at"] != nil })

	ticks := p["vars"].(map[string]any)["ticks"].(float64)
	if n := eventCount(p, "reminder"); ticks < 10 || float64(n) != ticks {
		t.Fatalf("%v ticks and %d reminder events", ticks, n)
	}
	replay := c.must(200, "POST", "/api/v1/processes/"+id+"/replay", "dev-auditor", nil)
	if replay["deterministic"] != true || replay["runs"].(float64) < 2 {
		t.Fatalf("replay: %v", replay)
	}
	timeline := c.must(200, "GET", "/api/v1/processes/"+id+"/timeline", "dev-auditor", nil)
	if n := len(timeline["entries"].([]any)); n != len(p["events"].([]any)) {
		t.Fatalf("the timeline has %d entries, the process %d events", n, len(p["events"].([]any)))
	}
	asOf := c.must(200, "GET", "/api/v1/processes/"+id+"?as_of="+mid.UTC().Format(time.RFC3339Nano), "dev-auditor", nil)["process"].(map[string]any)
	if v := asOf["vars"].(map[string]any)["ticks"].(float64); v < 5 || v > ticks-5 {
		t.Fatalf("as of the middle, %v ticks of %v", v, ticks)
	}
	t.Logf("%v ticks in %v runs", ticks, replay["runs"])

	if !*updateGolden {
		return
	}
	tc, err := dialTemporal(context.Background(), client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	runs, err := history.Runs(context.Background(), tc, id)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range runs {
		// Named for the workflow version they were recorded at: the lean-runs
		// ones before one workflow task per change (workflows.leanTasks).
		file := filepath.Join("../../testdata/histories", fmt.Sprintf("tasks-runs-ticker-run%d.json", i+1))
		if _, err := os.Stat(file); err == nil {
			continue // golden histories are never re-recorded
		}
		b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
