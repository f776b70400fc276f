package engine_test

import (
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

const waitingTimerDefinition = `name: waits
variables:
  checked: {type: bool, default: false}
initial: resolved
states:
  resolved:
    timers:
      - {after: 1h, action: close}
    actions:
      check: {to: resolved, roles: [desk], do: [{set: {checked: true}}]}
      close: {to: closed, roles: [desk], when: "vars.checked"}
  closed: {final: true}
`

// TestATimerWaitsForItsGuard: a timer due while its action's guard does not
// hold says so once, tells the action's roles, and fires at the change after
// which the guard holds. Definitions of earlier levels spend it, as recorded.
func TestATimerWaitsForItsGuard(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	count := func(in *engine.Instance, typ string) int {
		n := 0
		for _, e := range in.Pending {
			if e.Type == typ {
				n++
			}
		}
		return n
	}
	def := mustParse(t, waitingTimerDefinition)
	in, err := engine.Start(def, "w-1", 1, nil, engine.Actor{ID: "rita"}, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	in.Advance(def, t0.Add(3*time.Hour))
	if in.State != "resolved" || count(in, engine.EventStepFailed) != 1 || count(in, engine.EventNotification) != 1 || count(in, engine.EventTimerFired) != 0 {
		t.Fatalf("blocked timer: state %s, events %+v", in.State, in.Pending)
	}
	if _, _, ok := in.NextWake(def); ok {
		t.Fatal("a waiting timer is still a wake: it would fire again and again")
	}
	at := t0.Add(4 * time.Hour)
	if err := in.Apply(def, engine.ActionRequest{Action: "check", Actor: engine.Actor{ID: "dan", Roles: []string{"desk"}}}, at); err != nil {
		t.Fatal(err)
	}
	if in.State != "closed" || count(in, engine.EventTimerFired) != 1 || in.EndedAt == nil || !in.EndedAt.Equal(at) {
		t.Fatalf("after the guard holds: state %s, ended %v, events %+v", in.State, in.EndedAt, in.Pending)
	}

	old := mustParse(t, waitingTimerDefinition)
	old.Level = engine.LevelChildEndsKept
	in, _ = engine.Start(old, "w-2", 1, nil, engine.Actor{ID: "rita"}, "", t0)
	in.Advance(old, t0.Add(3*time.Hour))
	in.Apply(old, engine.ActionRequest{Action: "check", Actor: engine.Actor{ID: "dan", Roles: []string{"desk"}}}, t0.Add(4*time.Hour))
	if in.State != "resolved" || count(in, engine.EventTimerFired) != 2 {
		t.Fatalf("level 3: state %s, events %+v; want the timer spent with its error", in.State, in.Pending)
	}
}
