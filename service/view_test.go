package service

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

func TestAClockNotStartedHasNoStartTime(t *testing.T) {
	started := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	v := engine.View{ID: "change-normal-000001", StartedAt: started, SLAs: []engine.SLAView{
		{Name: "authorisation", Status: "running", StartedAt: started},
		{Name: "implementation", Status: "pending"},
	}}
	b, err := json.Marshal(render(v))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if strings.Contains(got, "0001-01-01") ||
		!strings.Contains(got, `{"name":"authorisation","status":"running","target":"0s","breached":false,"elapsed":"0s","started_at":"2026-01-05T09:00:00Z"}`) ||
		!strings.Contains(got, `{"name":"implementation","status":"pending","target":"0s","breached":false,"elapsed":"0s"}`) {
		t.Fatalf("rendered %s", got)
	}
	// The engine's view, which the workflow projects, keeps its shape.
	if b, _ := json.Marshal(v); !strings.Contains(string(b), `"started_at":"0001-01-01T00:00:00Z"`) {
		t.Fatalf("engine view %s", b)
	}
}

// TestTargetsShowAsWritten: a process's answer gives each SLA target as its
// author wrote it, for the priority it has now, where that differs from the
// canonical form; elapsed time is in whole seconds.
func TestTargetsShowAsWritten(t *testing.T) {
	def, err := engine.Parse([]byte(`name: t
input:
  priority: {type: enum, values: [P1, P2], default: P2}
initial: open
states:
  open: {actions: {done: {to: closed}}}
  closed: {final: true}
slas:
  resolution:
    by: priority
    targets: {P1: 4h, P2: 24h}
  review: {target: 7d}
`))
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	in, err := engine.Start(def, "t-1", 1, map[string]any{"priority": "P2"}, engine.Actor{ID: "rita"}, "", started)
	if err != nil {
		t.Fatal(err)
	}
	p := process(in.View(def, started.Add(90*time.Second+300*time.Millisecond)), def, Caller{Actor: engine.Actor{ID: "rita"}}, nil)
	b, _ := json.Marshal(p.SLAs)
	got := string(b)
	for _, want := range []string{`"target":"1d"`, `"target_as_written":"24h"`, `"elapsed":"1m30s"`, `"target":"1w"`, `"target_as_written":"7d"`} {
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %s", got, want)
		}
	}
}
