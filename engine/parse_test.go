package engine_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

func mustParse(t *testing.T, src string) *engine.Definition {
	t.Helper()
	def, err := engine.Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return def
}

func TestParseDesignExample(t *testing.T) {
	src, err := os.ReadFile("testdata/design-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def := mustParse(t, string(src))
	if def.Name != "incident" || def.Initial != "new" || len(def.States) != 5 {
		t.Fatalf("unexpected definition: %+v", def)
	}
	if got := def.State("resolved").Timers[0]; got.Action != "close" || got.After.String() != "1w" {
		t.Fatalf("resolved timer = %+v", got)
	}
	if def.SLAs[0].Name != "response" || def.SLAs[1].PauseIn[0] != "pending_customer" {
		t.Fatalf("slas = %+v", def.SLAs)
	}
	if e := def.Escalations[0]; e.At != 100 || e.Do[0].Notify.Role != "incident-manager" || e.Do[1].Set[0].Name != "tier" {
		t.Fatalf("escalation = %+v", e)
	}
}

// shippedDefinitions parses every process definition in definitions/ with the
// shipped calendars, by file name.
func shippedDefinitions(t *testing.T) map[string]*engine.Definition {
	t.Helper()
	calSrc, err := os.ReadFile("../definitions/calendars.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cals, err := engine.ParseCalendars(calSrc)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir("../definitions")
	out := map[string]*engine.Definition{}
	for _, f := range files {
		name := f.Name()
		if !strings.HasSuffix(name, ".yaml") || name == "dev-users.yaml" || name == "calendars.yaml" || name == "reports.yaml" || strings.HasSuffix(name, ".test.yaml") {
			continue
		}
		src, err := os.ReadFile("../definitions/" + name)
		if err != nil {
			t.Fatal(err)
		}
		def, err := engine.ParseWith(src, cals)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = def
	}
	if len(out) == 0 {
		t.Fatal("no shipped definitions found")
	}
	return out
}

func TestParseShippedDefinitions(t *testing.T) {
	if n := len(shippedDefinitions(t)); n < 11 {
		t.Fatalf("%d shipped definitions, want the 11 of the seeds", n)
	}
}

func TestParseReportsEveryProblemWithPosition(t *testing.T) {
	src := `name: Bad Name
titel: x
calendar: 5x8
input:
  priority: {type: enum, values: [P1, P2]}
  title: {type: strng, maxLength: 0}
initial: new
states:
  new:
    actions:
      go: {to: nowhere, roles: [a]}
      stay: {to: new}
    timers:
      - after: 3x
        action: missing
  orphan:
    actions:
      back: {to: new}
  done: {final: true}
slas:
  response:
    by: priority
    targets: {P1: 15m, P3: 1h}
    stop_on_leave: [neww]
escalations:
  - on: {sla: reponse, at: 150}
    do: [{notify: {role: x, user: y}}]
`
	_, err := engine.Parse([]byte(src))
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.EINVALID {
		t.Fatalf("want EINVALID, got %v", err)
	}
	want := []string{
		`1:7: name: "Bad Name" is not a valid name`,
		`2:1: titel: unknown key "titel" (did you mean "title"?)`,
		`3:11: calendar: calendar "5x8" is not defined (defined: 24x7)`,
		`6:17: input.title.type: unknown type "strng" (did you mean "string"?)`,
		`6:35: input.title.maxLength: maxLength must be greater than zero`,
		`11:16: states.new.actions.go.to: unknown state "nowhere" (known: new, orphan, done)`,
		`14:16: states.new.timers[0].after: invalid duration "3x": unknown unit "x"`,
		`15:17: states.new.timers[0].action: unknown action of state new "missing" (known: go, stay)`,
		`16:3: states.orphan: state "orphan" cannot be reached from the initial state "new"`,
		`19:3: states.done: state "done" cannot be reached from the initial state "new"`,
		`22:9: slas.response.by: input field "priority" chooses the target, so it must be required or have a default`,
		`23:14: slas.response.targets: no target for priority P2`,
		`23:24: slas.response.targets.P3: "P3" is not a value of priority (values: P1, P2)`,
		`24:21: slas.response.stop_on_leave[0]: unknown state "neww" (did you mean "new"?)`,
		`26:15: escalations[0].on.sla: unknown SLA "reponse" (did you mean "response"?)`,
		`27:19: escalations[0].do[0].notify: notify needs exactly one of role, user, users or group`,
	}
	var got []string
	for _, d := range e.Details {
		got = append(got, d.String())
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.HasPrefix(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

func TestParseUnknownInitial(t *testing.T) {
	_, err := engine.Parse([]byte("name: x\ninitial: start\nstates:\n  done: {final: true}\n"))
	if err == nil || !strings.Contains(err.Error(), `2:10: initial: unknown state "start"`) {
		t.Fatalf("got %v", err)
	}
}

func TestParseInvalidYAMLHasLine(t *testing.T) {
	_, err := engine.Parse([]byte("name: x\nstates:\n  a: [\n"))
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.EINVALID || len(e.Details) != 1 || e.Details[0].Line < 3 {
		t.Fatalf("want EINVALID with a line, got %#v", err)
	}
}

func TestParseRejectsEmptyAndNonMapping(t *testing.T) {
	for _, src := range []string{"", "just a string", "- a\n- b\n"} {
		if _, err := engine.Parse([]byte(src)); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("Parse(%q) = %v, want EINVALID", src, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	src, _ := os.ReadFile("testdata/design-example.yaml")
	f.Add(string(src))
	f.Add("name: x\ninitial: a\nstates: {a: {final: true}}\n")
	f.Add(approvalDef)
	f.Add(`name: x
input: {p: {type: enum, values: [a, b], default: b}, n: {type: int, default: 2}}
initial: a
states:
  a:
    on_enter: [{set: {d: "= now + duration('1h')"}}, {raise_priority: 1}]
    parallel: {tasks: {t1: {due: 1h}, t2: {}}, join: any, to: b}
    actions: {go: {to: b, when: "input.n > 1", do: [{action: go}]}}
  b: {final: true}
slas: {s: {target: 2h, start_when: "vars.d != ''", warn_at: 50%}}
escalations: [{on: {sla: s, at: 80%}, when: "state == 'a'", do: [{reassign: {user: "= actor.id"}}]}]
`)
	f.Add(deadlineDefinition)
	f.Add(noticeDefinition)
	f.Add(progressDefinition)
	f.Add(movingDeadline)
	f.Fuzz(func(t *testing.T, s string) {
		def, err := engine.Parse([]byte(s))
		if err == nil && def == nil {
			t.Fatal("nil definition without error")
		}
		if err != nil {
			return
		}
		// A definition that validates must also run without panicking: take
		// each action the system may take, and let two days pass (not more: a
		// reminder every second is valid, and tests use such definitions).
		in, err := engine.Start(def, "x-1", 1, map[string]any{}, engine.Actor{ID: "u"}, "", t0)
		if err != nil {
			return
		}
		for _, st := range def.States {
			for _, a := range st.Actions {
				_ = in.Apply(def, engine.ActionRequest{Action: a.Name, Actor: engine.System}, t0.Add(time.Minute))
			}
		}
		in.Advance(def, t0.Add(48*time.Hour))
		_ = in.View(def, t0.Add(48*time.Hour))
	})
}
