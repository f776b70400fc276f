package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

func reopenDefinition(reopen string) string {
	return `name: ticket
initial: open
states:
  open: {actions: {fix: {to: fixed}}}
  fixed: {actions: {reopen: {to: open}, close: {to: closed}}}
  closed: {final: true}
slas:
  fix:
    target: 2h
    stop_on_enter: [fixed]
    reopen: ` + reopen + `
escalations:
  - on: {sla: fix, at: 50%}
    do: [{notify: {role: lead}}]
`
}

// TestReopenedClocks: continue counts on from the time used, its escalation
// done once; restart counts a new target from zero, its escalation again.
func TestReopenedClocks(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		reopen      string
		due         time.Time // after the reopen at t0+3d
		escalations int
	}{
		{"continue", t0.Add(72*time.Hour + 30*time.Minute), 1},
		{"restart", t0.Add(72*time.Hour + 2*time.Hour), 2},
	} {
		t.Run(tc.reopen, func(t *testing.T) {
			def := mustParse(t, reopenDefinition(tc.reopen))
			in, err := engine.Start(def, "t-1", 1, nil, engine.Actor{ID: "rita"}, "", t0)
			if err != nil {
				t.Fatal(err)
			}
			act := func(action string, at time.Time) {
				t.Helper()
				in.Advance(def, at)
				if err := in.Apply(def, engine.ActionRequest{Action: action, Actor: engine.Actor{ID: "tom"}}, at); err != nil {
					t.Fatal(err)
				}
			}
			act("fix", t0.Add(90*time.Minute))
			act("reopen", t0.Add(72*time.Hour))
			c := in.Clocks[0]
			if due, ok := c.Due(def); c.Status != engine.ClockRunning || !ok || !due.Equal(tc.due) {
				t.Fatalf("after the reopen the clock is %s, due %v, want running, due %v", c.Status, due, tc.due)
			}
			in.Advance(def, t0.Add(80*time.Hour))
			escalations := 0
			for _, e := range in.Pending {
				if e.Type == engine.EventEscalation {
					escalations++
				}
			}
			if !in.Clocks[0].Breached || escalations != tc.escalations {
				t.Fatalf("breached %v after its target, %d escalations; want breached and %d", in.Clocks[0].Breached, escalations, tc.escalations)
			}
		})
	}
}

func TestReopenNeedsAStateThatStops(t *testing.T) {
	src := strings.Replace(reopenDefinition("continue"), "    stop_on_enter: [fixed]\n", "", 1)
	if _, err := engine.Parse([]byte(src)); err == nil || !strings.Contains(err.Error(), "10:13: slas.fix.reopen: reopen is for a clock a state stops") {
		t.Fatalf("got %v", err)
	}
	if _, err := engine.Parse([]byte(reopenDefinition("again"))); err == nil || !strings.Contains(err.Error(), `"again" is not one of continue, restart`) {
		t.Fatalf("got %v", err)
	}
}
