package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// Tests of the constructs beyond states and SLAs: expressions, variables,
// approvals, parallel tasks, SLA conditions and the newer steps.

func problems(t *testing.T, src string) []engine.Detail {
	t.Helper()
	_, err := engine.Parse([]byte(src))
	e, ok := err.(*engine.Error)
	if !ok {
		t.Fatalf("Parse: got %v, want problems", err)
	}
	return e.Details
}

func TestGuardsAndComputedValues(t *testing.T) {
	def := mustParse(t, `
name: guarded
input:
  priority: {type: enum, values: [P1, P2, P3], required: true}
  budget: {type: number, default: 0}
variables:
  respond_by: {type: datetime}
  tier: {type: int, default: 1}
initial: open
states:
  open:
    on_enter:
      - set: {respond_by: "= now + duration('4h')"}
    actions:
      fast_track:
        to: done
        when: "input.priority == 'P1' && input.budget < 1000.0"
        do: [{set: {note: "= 'fast-tracked by ' + actor.id"}}]
      finish: {to: done}
  done: {final: true}
`)
	p3 := start(t, def, map[string]any{"priority": "P3"})
	if got := p3.Vars["respond_by"]; got != t0.Add(4*time.Hour).Format(time.RFC3339) {
		t.Fatalf("respond_by = %v", got)
	}
	if p3.Vars["tier"] != 1 {
		t.Fatalf("variable default not applied: %v", p3.Vars)
	}
	err := p3.Apply(def, engine.ActionRequest{Action: "fast_track", Actor: desk}, t0)
	if engine.ErrorCode(err) != engine.ECONFLICT || !strings.Contains(err.Error(), "does not hold") {
		t.Fatalf("guard on P3: got %v, want a conflict naming the condition", err)
	}
	p1 := start(t, def, map[string]any{"priority": "P1"})
	act(t, def, p1, "fast_track", desk, nil, t0.Add(time.Minute))
	// The action's do step ran, by the system, with the actor of the action
	// out of scope: note records the system.
	if p1.State != "done" || p1.Vars["note"] != "fast-tracked by system" {
		t.Fatalf("state %s, vars %v", p1.State, p1.Vars)
	}
}

func TestExpressionErrorsHavePositions(t *testing.T) {
	got := problems(t, `
name: typos
input:
  priority: {type: enum, values: [P1, P2]}
  count: {type: int}
initial: open
states:
  open:
    actions:
      go:
        to: done
        when: "input.priorty == 'P1'"
      other:
        to: done
        when: "input.count + 1"
        do: [{set: {count: "= 'many'"}}]
  done: {final: true}
`)
	want := []struct {
		line, col int
		text      string
	}{
		{12, 21, "undefined field 'priorty'"}, // CEL points at the select
		{15, 15, "gives a whole number (int), but a condition needs true or false"},
		{16, 28, "gives a string, but count (int) needs a whole number (int)"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Line != w.line || got[i].Column != w.col || !strings.Contains(got[i].Message, w.text) {
			t.Errorf("problem %d = %d:%d %s; want %d:%d …%s…", i, got[i].Line, got[i].Column, got[i].Message, w.line, w.col, w.text)
		}
	}
}

func TestNewInputTypes(t *testing.T) {
	fields := []engine.Field{
		{Name: "window", Type: engine.TypeDuration},
		{Name: "at", Type: engine.TypeDatetime},
		{Name: "owner", Type: engine.TypeUser},
		{Name: "cis", Type: engine.TypeList, Values: []string{"db", "web"}},
	}
	got, err := engine.ValidateInput(fields, map[string]any{"window": "90m", "at": "2026-11-23T09:00:00+08:00", "owner": "alice", "cis": []any{"db"}}, "input")
	if err != nil {
		t.Fatal(err)
	}
	if got["window"] != "1h30m" || got["at"] != "2026-11-23T09:00:00+08:00" {
		t.Fatalf("canonical values = %v", got)
	}
	_, err = engine.ValidateInput(fields, map[string]any{"window": "soon", "at": "tomorrow", "cis": []any{"mail"}}, "input")
	e := err.(*engine.Error)
	if len(e.Details) != 3 || e.Details[0].Field != "input.window" || e.Details[1].Field != "input.at" || e.Details[2].Field != "input.cis" {
		t.Fatalf("details = %+v", e.Details)
	}
}

const approvalDef = `
name: change
initial: authorise
states:
  authorise:
    approval:
      approvers: {users: [ann, bob, cem]}
      mandatory: [max]
      quorum: majority
      due: 2h
      on_timeout: reject
      approved: scheduled
      rejected: rejected
  scheduled: {final: true}
  rejected: {final: true}
`

func vote(def *engine.Definition, in *engine.Instance, who, decision string, at time.Time) error {
	in.Advance(def, at)
	return in.Apply(def, engine.ActionRequest{Action: decision, Actor: engine.Actor{ID: who}, Comment: "ok"}, at)
}

func TestApprovalQuorumVetoAndTimeout(t *testing.T) {
	def := mustParse(t, approvalDef)
	t.Run("MajorityWithMandatory", func(t *testing.T) {
		in := start(t, def, nil)
		for _, v := range []struct{ who, d string }{{"ann", "approve"}, {"bob", "reject"}, {"cem", "approve"}} {
			if err := vote(def, in, v.who, v.d, t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		// 2 of 3 approvals but the mandatory approver has not approved yet.
		if in.State != "authorise" {
			t.Fatalf("decided without the mandatory approver: %s", in.State)
		}
		if err := vote(def, in, "max", "approve", t0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if in.State != "scheduled" || eventTypes(in)[engine.EventApprovalDecided] != 1 {
			t.Fatalf("state %s, events %v", in.State, eventTypes(in))
		}
		// A vote that arrives after the decision names it, and changes nothing.
		seq := in.Seq
		err := in.Apply(def, engine.ActionRequest{Action: "reject", Actor: engine.Actor{ID: "cem"}, State: "authorise"}, t0.Add(3*time.Minute))
		if engine.ErrorCode(err) != engine.ECONFLICT || !strings.Contains(err.Error(), "was decided (approved)") || in.Seq != seq {
			t.Fatalf("late vote: %v", err)
		}
	})
	t.Run("Veto", func(t *testing.T) {
		in := start(t, def, nil)
		_ = vote(def, in, "ann", "approve", t0)
		if err := vote(def, in, "max", "reject", t0); err != nil || in.State != "rejected" {
			t.Fatalf("veto: %v, state %s", err, in.State)
		}
	})
	t.Run("RefusedVotes", func(t *testing.T) {
		in, err := engine.Start(def, "change-000001", 1, nil, engine.Actor{ID: "ann"}, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := vote(def, in, "ann", "approve", t0); engine.ErrorCode(err) != engine.EFORBIDDEN || !strings.Contains(err.Error(), "separation of duties") {
			t.Fatalf("own change: %v", err)
		}
		if err := vote(def, in, "zed", "approve", t0); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Fatalf("not an approver: %v", err)
		}
		_ = vote(def, in, "bob", "approve", t0)
		if err := vote(def, in, "bob", "reject", t0); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("second vote: %v", err)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		in := start(t, def, nil)
		in.Advance(def, t0.Add(3*time.Hour))
		if in.State != "rejected" || eventTypes(in)[engine.EventApprovalDue] != 1 {
			t.Fatalf("state %s, events %v", in.State, eventTypes(in))
		}
	})
}

func TestParallelTasksJoinAndOverdue(t *testing.T) {
	def := mustParse(t, `
name: release
initial: build_and_test
states:
  build_and_test:
    parallel:
      tasks:
        build: {roles: [dev], due: 1h}
        test: {roles: [qa], due: 2h}
      join: all
      to: acceptance
  acceptance:
    actions: {accept: {to: done}}
  done: {final: true}
`)
	in := start(t, def, nil)
	dev, qa := engine.Actor{ID: "d", Roles: []string{"dev"}}, engine.Actor{ID: "q", Roles: []string{"qa"}}
	if err := in.Apply(def, engine.ActionRequest{Action: "test", Actor: dev}, t0); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Fatalf("task by the wrong role: %v", err)
	}
	act(t, def, in, "build", dev, nil, t0.Add(30*time.Minute))
	if err := in.Apply(def, engine.ActionRequest{Action: "build", Actor: dev}, t0.Add(31*time.Minute)); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Fatalf("task done twice: %v", err)
	}
	in.Advance(def, t0.Add(2*time.Hour+time.Minute))
	if eventTypes(in)[engine.EventTaskOverdue] != 1 || in.State != "build_and_test" {
		t.Fatalf("events %v, state %s", eventTypes(in), in.State)
	}
	act(t, def, in, "test", qa, nil, t0.Add(3*time.Hour))
	if in.State != "acceptance" {
		t.Fatalf("state after both tasks = %s", in.State)
	}
}

func TestSLAStartConditionWarningAndEscalationSteps(t *testing.T) {
	def := mustParse(t, `
name: tiered
input:
  priority: {type: enum, values: [P1, P2, P3], default: P3}
initial: new
states:
  new:
    actions: {accept: {to: working}}
  working:
    actions: {resolve: {to: done}}
  done: {final: true}
slas:
  resolution:
    target: 4h
    start_on_enter: [working]
    stop_on_enter: [done]
    warn_at: 75%
escalations:
  - on: {sla: resolution, at: 50%}
    when: "input.priority != 'P1'"
    do:
      - reassign: {group: tier2}
      - raise_priority: 1
`)
	in := start(t, def, nil)
	if c := clock(in, "resolution"); c.Status != engine.ClockPending {
		t.Fatalf("clock before working = %s", c.Status)
	}
	act(t, def, in, "accept", desk, nil, t0.Add(time.Hour))
	in.Advance(def, t0.Add(3*time.Hour+time.Minute)) // 2h01 of 4h
	if in.Vars["assignment_group"] != "tier2" || in.Priority() != "P2" {
		t.Fatalf("vars after the 50%% mark = %v", in.Vars)
	}
	if eventTypes(in)[engine.EventSLAWarning] != 0 {
		t.Fatal("warned before 75%")
	}
	in.Advance(def, t0.Add(4*time.Hour+time.Minute)) // 3h01 of 4h
	if c := clock(in, "resolution"); !c.Warned || eventTypes(in)[engine.EventSLAWarning] != 1 {
		t.Fatalf("not warned at 75%%: %+v", c)
	}
}

func TestConstructReferencesAreChecked(t *testing.T) {
	got := problems(t, `
name: refs
initial: vote
states:
  vote:
    approval:
      approvers: {roles: [cab-member]}
      quorum: majority
      approved: nowhere
      rejected: done
    actions:
      approve: {to: done}
    on_enter:
      - action: launch
      - raise_priority: 1
  done: {final: true}
`)
	var msgs []string
	for _, p := range got {
		msgs = append(msgs, p.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`action "approve" clashes with the vote`,
		`unknown action "launch"`,
		`raise_priority needs an enum input field "priority"`,
		`unknown state "nowhere"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem %q in:\n%s", want, all)
		}
	}
}

func TestBreakGlassIsTheOnlyWayPastAVote(t *testing.T) {
	def := mustParse(t, `
name: emergency
initial: authorise
states:
  authorise:
    approval:
      approvers: {roles: [cab-member]}
      approved: implement
      rejected: rejected
      break_glass:
        roles: [change-manager]
        do: [{notify: {role: change-manager}}, {set: {review_required: true}}]
  implement:
    actions: {done: {to: closed}}
  closed: {final: true}
  rejected: {final: true}
`)
	in := start(t, def, nil)
	cm := engine.Actor{ID: "carl", Roles: []string{"change-manager"}}
	if err := in.Apply(def, engine.ActionRequest{Action: engine.ActionBreakGlass, Actor: engine.Actor{ID: "cara", Roles: []string{"cab-member"}},
		Input: map[string]any{"reason": "outage"}}, t0); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Fatalf("break-glass by a CAB member: %v", err)
	}
	if err := in.Apply(def, engine.ActionRequest{Action: engine.ActionBreakGlass, Actor: cm}, t0); engine.ErrorCode(err) != engine.EINVALID {
		t.Fatalf("break-glass without a reason: %v", err)
	}
	raised, _ := engine.Start(def, "emergency-000002", 1, nil, cm, "", t0)
	if err := raised.Apply(def, engine.ActionRequest{Action: engine.ActionBreakGlass, Actor: cm, Input: map[string]any{"reason": "mine"}}, t0); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Fatalf("break-glass on one's own change: %v", err)
	}
	act(t, def, in, engine.ActionBreakGlass, cm, map[string]any{"reason": "payment outage, vendor fix"}, t0.Add(time.Minute))
	var outcome any
	for _, e := range in.Pending {
		if e.Type == engine.EventApprovalDecided {
			outcome = e.Data["outcome"]
		}
	}
	if in.State != "implement" || outcome != engine.OutcomeBypassed || in.Vars["review_required"] != true || in.Vars["reason"] == nil {
		t.Fatalf("state %s, outcome %v, vars %v", in.State, outcome, in.Vars)
	}

	got := problems(t, `
name: sneaky
initial: authorise
states:
  authorise:
    approval:
      approvers: {roles: [cab-member]}
      approved: implement
      rejected: done
      break_glass: {to: implement}
    actions:
      skip: {to: implement}
  implement:
    actions: {finish: {to: done}}
  done: {final: true}
`)
	all := ""
	for _, p := range got {
		all += p.Message + "\n"
	}
	for _, want := range []string{`action "skip" leads to "implement", where the approval leads`, `break_glass needs the roles`} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem %q in:\n%s", want, all)
		}
	}
}

func TestApproversAreToldAndReminded(t *testing.T) {
	def := mustParse(t, approvalDef) // due 2h: reminded at 1h30
	notified := func(in *engine.Instance, from int) []string {
		var out []string
		for _, e := range in.Pending[from:] {
			if e.Type == engine.EventNotification {
				out = append(out, e.Data["user"].(string))
			}
		}
		return out
	}
	in := start(t, def, nil)
	if got := strings.Join(notified(in, 0), ","); got != "ann,bob,cem,max" {
		t.Fatalf("told at the start: %s", got)
	}
	if err := vote(def, in, "ann", "approve", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	n := len(in.Pending)
	in.Advance(def, t0.Add(90*time.Minute))
	if got := strings.Join(notified(in, n), ","); got != "bob,cem,max" {
		t.Fatalf("reminded at 75%%: %s", got)
	}
	// A definition recorded before approval notices (level 0) behaves as it did.
	old := mustParse(t, approvalDef)
	old.Level = 0
	if got := notified(start(t, old, nil), 0); len(got) != 0 {
		t.Fatalf("a level-0 definition notified %v", got)
	}
}

func TestDelegatedVoteCountsForTheDelegator(t *testing.T) {
	def := mustParse(t, approvalDef) // majority of ann, bob, cem and max (mandatory)
	in := start(t, def, nil)
	max := &engine.Actor{ID: "max"}
	for _, who := range []string{"ann", "bob"} {
		if err := vote(def, in, who, "approve", t0); err != nil {
			t.Fatal(err)
		}
	}
	// Max is away; Dan holds his delegation and approves for him.
	if err := in.Apply(def, engine.ActionRequest{Action: "approve", Actor: engine.Actor{ID: "dan"}, OnBehalfOf: max}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if in.State != "scheduled" {
		t.Fatalf("the delegated mandatory approval did not count: %s", in.State)
	}
	for _, e := range in.Pending {
		if e.Type == engine.EventAction && e.Actor == "dan" && e.Data["on_behalf_of"] != "max" {
			t.Fatalf("vote event does not name the delegator: %+v", e)
		}
	}

	in = start(t, def, nil)
	if err := in.Apply(def, engine.ActionRequest{Action: "approve", Actor: engine.Actor{ID: "dan"}, OnBehalfOf: max}, t0); err != nil {
		t.Fatal(err)
	}
	if err := vote(def, in, "max", "reject", t0); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Fatalf("max voted again after his delegate: %v", err)
	}
	if in.Votes[0].Actor != "max" || in.Votes[0].By != "dan" {
		t.Fatalf("vote = %+v", in.Votes[0])
	}
	// The raiser cannot vote for anyone.
	raised, _ := engine.Start(def, "change-000002", 1, nil, engine.Actor{ID: "dan"}, "", t0)
	if err := raised.Apply(def, engine.ActionRequest{Action: "approve", Actor: engine.Actor{ID: "dan"}, OnBehalfOf: max}, t0); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Fatalf("the raiser voted as a delegate: %v", err)
	}
}

func TestChangeWindowsMissBlackouts(t *testing.T) {
	cals, err := engine.ParseCalendars([]byte(`
calendars:
  ops:
    timezone: Europe/Berlin
    hours: {mon: ["08:00-17:00"]}
    blackouts:
      - {name: year-end freeze, from: "2026-12-24T00:00:00+01:00", to: "2027-01-04T00:00:00+01:00"}
`))
	if err != nil {
		t.Fatal(err)
	}
	def, err := engine.ParseWith([]byte(`
name: change
calendar: ops
initial: planning
states:
  planning:
    actions:
      schedule:
        to: scheduled
        input:
          from: {type: datetime, required: true}
          until: {type: datetime, required: true}
        window: {start: from, end: until}
  scheduled: {final: true}
`), cals)
	if err != nil {
		t.Fatal(err)
	}
	in := start(t, def, nil)
	try := func(from, until string) error {
		return in.Apply(def, engine.ActionRequest{Action: "schedule", Actor: desk, Input: map[string]any{"from": from, "until": until}}, t0)
	}
	err = try("2027-01-03T22:00:00+01:00", "2027-01-04T02:00:00+01:00")
	if engine.ErrorCode(err) != engine.ECONFLICT || !strings.Contains(err.Error(), `blackout "year-end freeze"`) {
		t.Fatalf("window overlapping the freeze: %v", err)
	}
	if err := try("2027-01-05T22:00:00+01:00", "2027-01-05T21:00:00+01:00"); engine.ErrorCode(err) != engine.EINVALID {
		t.Fatalf("window ending before it starts: %v", err)
	}
	if err := try("2027-01-04T00:00:00+01:00", "2027-01-04T02:00:00+01:00"); err != nil || in.State != "scheduled" {
		t.Fatalf("window right after the freeze: %v", err)
	}

	got := problems(t, `
name: bad
initial: a
states:
  a:
    actions:
      go: {to: b, input: {at: {type: string}}, window: {start: at, end: missing}}
  b: {final: true}
`)
	if len(got) != 2 || !strings.Contains(got[0].Message, "required datetime input fields") {
		t.Fatalf("problems: %+v", got)
	}
}

func TestExcludedPeopleCannotVote(t *testing.T) {
	def := mustParse(t, `
name: change
input:
  owner: {type: user}
variables:
  implementers: {type: list, default: [ivan, ida]}
initial: authorise
states:
  authorise:
    approval:
      approvers: {users: [ann, bob, ivan]}
      exclude: [input.owner, vars.implementers]
      approved: done
      rejected: done
  done: {final: true}
`)
	in := start(t, def, map[string]any{"owner": "bob"})
	for _, who := range []string{"bob", "ivan"} {
		if err := vote(def, in, who, "approve", t0); engine.ErrorCode(err) != engine.EFORBIDDEN || !strings.Contains(err.Error(), "separation of duties") {
			t.Fatalf("%s voted: %v", who, err)
		}
	}
	// Nor through a delegation.
	err := in.Apply(def, engine.ActionRequest{Action: "approve", Actor: engine.Actor{ID: "ida"}, OnBehalfOf: &engine.Actor{ID: "ann"}}, t0)
	if engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Fatalf("an excluded delegate voted: %v", err)
	}
	if v := in.View(def, t0); strings.Join(v.Approval.Excluded, ",") != "bob,ivan,ida" {
		t.Fatalf("view excluded = %v", v.Approval.Excluded)
	}
	if err := vote(def, in, "ann", "approve", t0); err != nil || in.State != "done" {
		t.Fatalf("ann: %v, %s", err, in.State)
	}
	if got := problems(t, strings.Replace(`
name: bad
input: {n: {type: int}}
initial: a
states:
  a:
    approval: {approvers: {users: [x]}, exclude: [input.n], approved: b, rejected: b}
  b: {final: true}
`, "\t", "", -1)); len(got) != 1 || !strings.Contains(got[0].Message, "exclude needs a user or a list of users") {
		t.Fatalf("problems: %+v", got)
	}
}

// Macros that build lists from a map iterate in Go's random order; a replay must
// decide the same, so validation refuses them where the range may be a map.
func TestUnorderedMacrosAreRefused(t *testing.T) {
	got := problems(t, `
name: order
input:
  tags: {type: list}
initial: a
states:
  a:
    on_enter:
      - set: {ok: "= input.tags.map(t, t + '!')"}
      - set: {first: "= {'b': 1, 'a': 2}.map(k, k)"}
      - webhook:
          url: https://example.test/hook
          result: {keys: "= response.body.filter(k, k != 'x')", any: "= response.body.exists(k, k == 'x')"}
    actions: {go: {to: b}}
  b: {final: true}
`)
	if len(got) != 2 || !strings.Contains(got[0].Message, "map() over a map") || !strings.Contains(got[1].Message, "filter() over a map or a value of unknown type") {
		t.Fatalf("problems: %+v", got)
	}
}
