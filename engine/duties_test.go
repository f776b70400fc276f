package engine_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

const dutiesDefinition = `name: duty
initial: open
states:
  open:
    actions:
      confirm: {to: open, roles: [desk]}
      begin: {to: working, roles: [desk, tech], not_by: [confirm, start]}
  working: {actions: {done: {to: closed}}}
  closed: {final: true}
`

// TestSeparationOfDutiesBetweenActions: the confirmer and the requester may
// not begin, are told why, and are not offered begin; someone else may.
func TestSeparationOfDutiesBetweenActions(t *testing.T) {
	def := mustParse(t, dutiesDefinition)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	in, err := engine.Start(def, "d-1", 1, nil, engine.Actor{ID: "rita", Roles: []string{"desk"}}, "", now)
	if err != nil {
		t.Fatal(err)
	}
	dan := engine.Actor{ID: "dan", Roles: []string{"desk"}}
	if err := in.Apply(def, engine.ActionRequest{Action: "confirm", Actor: dan}, now); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who  engine.Actor
		want string
	}{
		{dan, `separation of duties: dan took "confirm" in this process, so may not take "begin"`},
		{engine.Actor{ID: "rita", Roles: []string{"desk"}}, `separation of duties: rita started it in this process, so may not take "begin"`},
	} {
		err := in.Apply(def, engine.ActionRequest{Action: "begin", Actor: tc.who}, now)
		if e, ok := err.(*engine.Error); !ok || e.Code != engine.EFORBIDDEN || !strings.Contains(e.Message, tc.want) {
			t.Fatalf("%s begins: %v, want 403 %q", tc.who.ID, err, tc.want)
		}
		if slices.Contains(def.AllowedActions(in.State, tc.who, in.Parties()), "begin") {
			t.Fatalf("%s is offered begin", tc.who.ID)
		}
	}
	if v := in.View(def, now); !slices.Equal(v.TakenBy["confirm"], []string{"dan"}) {
		t.Fatalf("taken_by %v, want confirm by dan", v.TakenBy)
	}
	tess := engine.Actor{ID: "tess", Roles: []string{"tech"}}
	if !slices.Contains(def.AllowedActions(in.State, tess, in.Parties()), "begin") {
		t.Fatal("tess is not offered begin")
	}
	if err := in.Apply(def, engine.ActionRequest{Action: "begin", Actor: tess}, now); err != nil || in.State != "working" {
		t.Fatalf("tess begins: %v, state %s", err, in.State)
	}
}

func TestNotByNamesActions(t *testing.T) {
	src := strings.Replace(dutiesDefinition, "not_by: [confirm, start]", "not_by: [confrim]", 1)
	_, err := engine.Parse([]byte(src))
	if err == nil || !strings.Contains(err.Error(), `7:58: states.open.actions.begin.not_by[0]: unknown action "confrim" (did you mean "confirm"?)`) {
		t.Fatalf("got %v", err)
	}
}
