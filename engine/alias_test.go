package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
)

// The reference says YAML anchors, aliases and merge keys work as usual: each
// construct of the language that takes a list or a mapping takes an alias of
// one, and a merge key into each mapping.
func TestYAMLAliasesWorkForEveryListAndMapping(t *testing.T) {
	src := `
name: aliased
title: &title Aliased
input:
  priority: {type: enum, values: [P1, P2], default: P2}
  owner: &owner_field {type: user}
  <<: {deputy: *owner_field}
variables: &variables {tier: {type: int, default: 1}}
initial: new
states:
  new:
    on_enter: &steps [{notify: {role: desk}}]
    timers: &timers [{after: 1h, action: finish}]
    reminders: &reminders [{every: 30m, do: *steps}]
    actions: &actions
      finish: &finish {to: done, roles: &roles [desk, tier1]}
      finish_too: {<<: *finish, roles: [tier2]}
      wait: {to: waiting}
      detour: {to: other}
  waiting:
    timers: *timers
    reminders: *reminders
    on_enter: *steps
    actions: *actions
  other:
    <<: {actions: {finish: {to: done, roles: *roles}}}
  done: {final: true}
slas:
  resolution:
    by: priority
    targets: &targets {P1: 1h, P2: 4h}
    stop_on_enter: &final_states [done]
  response: &sla {target: 30m, stop_on_enter: *final_states}
  other_response: {<<: *sla, target: 1h}
escalations: &escalations
  - on: {sla: resolution, at: 100%}
    do: *steps
`
	def, err := engine.Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	t.Run("ListAliases", func(t *testing.T) {
		w := def.State("waiting")
		if len(w.Timers) != 1 || w.Timers[0].Action != "finish" {
			t.Errorf("timers: *timers gave %+v", w.Timers)
		}
		if len(w.Reminders) != 1 || len(w.Reminders[0].Do) != 1 {
			t.Errorf("reminders: *reminders gave %+v", w.Reminders)
		}
		if len(w.OnEnter) != 1 || w.OnEnter[0].Notify.Role != "desk" {
			t.Errorf("on_enter: *steps gave %+v", w.OnEnter)
		}
		if got := def.State("other").Action("finish").Roles; strings.Join(got, ",") != "desk,tier1" {
			t.Errorf("roles: *roles gave %v", got)
		}
		if got := def.SLAs[1].StopOnEnter; strings.Join(got, ",") != "done" {
			t.Errorf("stop_on_enter: *final_states gave %v", got)
		}
		if len(def.Escalations) != 1 || def.Escalations[0].Do[0].Notify.Role != "desk" {
			t.Errorf("do: *steps in an escalation gave %+v", def.Escalations)
		}
	})
	t.Run("MappingAliases", func(t *testing.T) {
		if got := def.State("waiting").ActionNames(); strings.Join(got, ",") != "finish,finish_too,wait,detour" {
			t.Errorf("actions: *actions gave %v", got)
		}
		if a := def.State("new").Action("finish"); a == nil || a.To != "done" {
			t.Errorf("finish: &finish gave %+v", a)
		}
		if s := def.SLAs[1]; s.Target.String() != "30m" {
			t.Errorf("response: *sla gave %+v", s)
		}
		if len(def.SLAs[0].Targets) != 2 {
			t.Errorf("targets: *targets gave %+v", def.SLAs[0].Targets)
		}
		if len(def.Variables) != 1 || def.Variables[0].Name != "tier" {
			t.Errorf("variables: &variables gave %+v", def.Variables)
		}
	})
	t.Run("MergeKeys", func(t *testing.T) {
		if a := def.State("new").Action("finish_too"); a == nil || a.To != "done" || strings.Join(a.Roles, ",") != "tier2" {
			t.Errorf("{<<: *finish, roles: [tier2]} gave %+v", a)
		}
		if a := def.State("other").Action("finish"); a == nil || a.To != "done" {
			t.Errorf("a state merged from a mapping gave %+v", def.State("other"))
		}
		if s := def.SLAs[2]; s.Target.String() != "1h" || strings.Join(s.StopOnEnter, ",") != "done" {
			t.Errorf("{<<: *sla, target: 1h} gave %+v", s)
		}
		var names []string
		for _, f := range def.Input {
			names = append(names, f.Name)
		}
		if strings.Join(names, ",") != "priority,owner,deputy" {
			t.Errorf("input with a merge key gave %v", names)
		}
	})
}

func TestYAMLAliasToItsOwnContainerIsRefused(t *testing.T) {
	src := `
name: loop
initial: new
states: &states
  new:
    actions: {go: {to: new}}
  again: *states
`
	_, err := engine.Parse([]byte(src))
	if err == nil || !strings.Contains(err.Error(), "problem") {
		t.Fatalf("Parse of a cyclic alias = %v, want a validation error", err)
	}
}

func TestYAMLAliasesCannotExpandWithoutBound(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: laughs\ninitial: a\nx:\n  l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("states: {a: {final: true}}\n")
	_, err := engine.Parse([]byte(b.String()))
	if err == nil || !strings.Contains(errorText(err), "too large once its aliases are expanded") {
		t.Fatalf("Parse = %v, want the expansion refused", errorText(err))
	}
}
