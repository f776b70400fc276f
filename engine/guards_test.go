package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

const progressDefinition = `name: develop
input:
  priority: {type: enum, values: [P1, P2], default: P2}
initial: developing
states:
  developing:
    actions:
      report_progress:
        to: developing
        roles: [developer]
        when: "input.progress < 100"
        input: {progress: {type: int, required: true}}
      complete:
        to: testing
        roles: [developer]
        when: "input.progress == 100"
        input: {progress: {type: int, required: true}}
      expedite:
        to: expedited
        when: "input.priority == 'P1'"
        input: {priority: {type: enum, values: [P1, P2], required: true}}
  expedited:
    actions: {done: {to: testing}}
  testing: {final: true}
`

// TestGuardsReadTheActionsInput: from LevelGuardsReadInput an action's guard
// reads what is being entered, so a step can follow from it; below, input
// was the process's input before the action.
func TestGuardsReadTheActionsInput(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	dev := engine.Actor{ID: "dora", Roles: []string{"developer"}}
	act := func(in *engine.Instance, def *engine.Definition, action string, input map[string]any) error {
		return in.Apply(def, engine.ActionRequest{Action: action, Actor: dev, Input: input}, t0.Add(time.Hour))
	}
	def := mustParse(t, progressDefinition)

	t.Run("ProgressBelowAHundredStays", func(t *testing.T) {
		in, _ := engine.Start(def, "d-1", 1, nil, dev, "", t0)
		if err := act(in, def, "report_progress", map[string]any{"progress": 60}); err != nil || in.State != "developing" {
			t.Fatalf("report 60%%: %v, state %s", err, in.State)
		}
		var e *engine.Error
		if err := act(in, def, "complete", map[string]any{"progress": 60}); !errors.As(err, &e) || e.Code != engine.ECONFLICT {
			t.Fatalf("complete at 60%% = %v, want a conflict", err)
		}
	})
	t.Run("ProgressReachingAHundredMovesOn", func(t *testing.T) {
		in, _ := engine.Start(def, "d-2", 1, nil, dev, "", t0)
		if err := act(in, def, "report_progress", map[string]any{"progress": 100}); err == nil {
			t.Fatal("report_progress at 100% was allowed; its guard reads the progress entered")
		}
		if err := act(in, def, "complete", map[string]any{"progress": 100}); err != nil || in.State != "testing" {
			t.Fatalf("complete at 100%%: %v, state %s", err, in.State)
		}
	})
	t.Run("InvalidInputIsRefusedBeforeTheGuard", func(t *testing.T) {
		in, _ := engine.Start(def, "d-3", 1, nil, dev, "", t0)
		var e *engine.Error
		if err := act(in, def, "complete", nil); !errors.As(err, &e) || e.Code != engine.EINVALID {
			t.Fatalf("complete without progress = %v, want invalid input", err)
		}
	})
	t.Run("AnInputFieldOfTheProcessReadsTheNewValue", func(t *testing.T) {
		in, _ := engine.Start(def, "d-4", 1, nil, dev, "", t0)
		if err := act(in, def, "expedite", map[string]any{"priority": "P1"}); err != nil || in.State != "expedited" {
			t.Fatalf("expedite to P1: %v, state %s", err, in.State)
		}
	})
	t.Run("EarlierLevelsReadTheProcessInputBeforeTheAction", func(t *testing.T) {
		old := mustParse(t, progressDefinition)
		old.Level = engine.LevelTimersWait
		in, _ := engine.Start(old, "d-5", 1, nil, dev, "", t0)
		err := act(in, old, "expedite", map[string]any{"priority": "P1"})
		if err == nil || !strings.Contains(err.Error(), "does not hold") {
			t.Fatalf("level %d expedite = %v, want the guard to read the old priority P2", old.Level, err)
		}
	})
}

func TestAGuardNamingAnotherActionsInputIsRefused(t *testing.T) {
	src := strings.Replace(progressDefinition, `when: "input.priority == 'P1'"`, `when: "input.progres == 100"`, 1)
	_, err := engine.Parse([]byte(src))
	if err == nil || !strings.Contains(errorText(err), "states.developing.actions.expedite.when") || !strings.Contains(errorText(err), "progres") {
		t.Fatalf("Parse = %v, want the unknown field at the guard", errorText(err))
	}
}
