package engine_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

var (
	desk      = engine.Actor{ID: "sam", Roles: []string{"service-desk"}}
	requester = engine.Actor{ID: "rita", Roles: []string{"requester"}}
)

func designExample(t *testing.T) *engine.Definition {
	t.Helper()
	src, err := os.ReadFile("testdata/design-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, string(src))
}

func start(t *testing.T, def *engine.Definition, input map[string]any) *engine.Instance {
	t.Helper()
	in, err := engine.Start(def, "incident-000001", 1, input, requester, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func act(t *testing.T, def *engine.Definition, in *engine.Instance, action string, actor engine.Actor, input map[string]any, at time.Time) {
	t.Helper()
	in.Advance(def, at)
	if err := in.Apply(def, engine.ActionRequest{Action: action, Actor: actor, Input: input}, at); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
}

func clock(in *engine.Instance, name string) engine.Clock {
	for _, c := range in.Clocks {
		if c.Name == name {
			return c
		}
	}
	return engine.Clock{}
}

func eventTypes(in *engine.Instance) map[string]int {
	n := map[string]int{}
	for _, e := range in.Pending {
		n[e.Type]++
	}
	return n
}

func TestStartAppliesDefaultsAndStartsClocks(t *testing.T) {
	def := designExample(t)
	in := start(t, def, map[string]any{"title": "printer on fire"})
	if in.Input["priority"] != "P3" || in.State != "new" {
		t.Fatalf("input %v state %s", in.Input, in.State)
	}
	due, ok := clock(in, "response").Due(def)
	if !ok || !due.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("response due %v %v, want 4h after start", due, ok)
	}
	if w, _, _ := in.NextWake(def); !w.Equal(t0.Add(4 * time.Hour)) {
		t.Fatalf("next wake %v", w)
	}
}

func TestStartRefusesBadInput(t *testing.T) {
	def := designExample(t)
	for name, input := range map[string]map[string]any{
		"MissingTitle":   {"priority": "P1"},
		"UnknownField":   {"title": "x", "titel": "y"},
		"BadEnum":        {"title": "x", "priority": "P9"},
		"TooLong":        {"title": string(make([]byte, 201))},
		"WrongType":      {"title": 42.0},
		"EmptyRequired":  {"title": ""},
		"NotAStringEnum": {"title": "x", "priority": 1.0},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := engine.Start(def, "x", 1, input, requester, "", t0)
			if engine.ErrorCode(err) != engine.EINVALID {
				t.Fatalf("got %v, want EINVALID", err)
			}
			if e := err.(*engine.Error); len(e.Details) == 0 || e.Details[0].Field == "" {
				t.Fatalf("no field named: %v", err)
			}
		})
	}
}

func TestResponseBreachEscalatesOnce(t *testing.T) {
	def := designExample(t)
	in := start(t, def, map[string]any{"title": "down", "priority": "P1"})
	in.Advance(def, t0.Add(14*time.Minute))
	if clock(in, "response").Breached {
		t.Fatal("breached early")
	}
	in.Advance(def, t0.Add(20*time.Minute))
	c := clock(in, "response")
	if !c.Breached || !c.BreachAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("breach %v at %v, want at 15m", c.Breached, c.BreachAt)
	}
	if in.Vars["tier"] != 2 {
		t.Fatalf("tier = %v", in.Vars["tier"])
	}
	n := eventTypes(in)
	if n[engine.EventSLABreached] != 1 || n[engine.EventEscalation] != 1 || n[engine.EventNotification] != 1 {
		t.Fatalf("events %v", n)
	}
	in.Advance(def, t0.Add(time.Hour))
	if n2 := eventTypes(in); n2[engine.EventEscalation] != 1 || n2[engine.EventSLABreached] != 1 {
		t.Fatalf("escalated twice: %v", n2)
	}
}

func TestResponseStopsWhenLeavingNew(t *testing.T) {
	def := designExample(t)
	in := start(t, def, map[string]any{"title": "down", "priority": "P1"})
	act(t, def, in, "acknowledge", engine.Actor{ID: "tom", Roles: []string{"tier1"}}, nil, t0.Add(10*time.Minute))
	c := clock(in, "response")
	if c.Status != engine.ClockStopped || c.Breached || time.Duration(c.Elapsed) != 10*time.Minute {
		t.Fatalf("response clock %+v", c)
	}
	in.Advance(def, t0.Add(3*time.Hour))
	if clock(in, "response").Breached {
		t.Fatal("a stopped clock breached")
	}
}

func TestResolutionPausesWhileWaitingForCustomer(t *testing.T) {
	def := designExample(t)
	in := start(t, def, map[string]any{"title": "slow", "priority": "P1"}) // resolution 4h
	tier1 := engine.Actor{ID: "tom", Roles: []string{"tier1"}}
	act(t, def, in, "acknowledge", tier1, nil, t0.Add(5*time.Minute))
	act(t, def, in, "wait_for_customer", tier1, nil, t0.Add(1*time.Hour))
	if c := clock(in, "resolution"); c.Status != engine.ClockPaused {
		t.Fatalf("not paused: %+v", c)
	}
	if _, ok := clock(in, "resolution").Due(def); ok {
		t.Fatal("a paused clock has a due time")
	}
	// Waiting 10h for the customer must not breach the 4h target.
	act(t, def, in, "customer_replied", tier1, nil, t0.Add(11*time.Hour))
	c := clock(in, "resolution")
	if c.Breached || time.Duration(c.Elapsed) != time.Hour {
		t.Fatalf("after resume %+v", c)
	}
	due, _ := c.Due(def)
	if want := t0.Add(14 * time.Hour); !due.Equal(want) {
		t.Fatalf("due %v, want %v (3h left after resuming at 11h)", due, want)
	}
	in.Advance(def, t0.Add(14*time.Hour))
	if c := clock(in, "resolution"); !c.Breached || !c.BreachAt.Equal(t0.Add(14*time.Hour)) {
		t.Fatalf("breach %+v", c)
	}
}

func TestObservationPeriodClosesAutomatically(t *testing.T) {
	def := designExample(t)
	in, _ := engine.Start(def, "incident-000002", 1, map[string]any{"title": "x"}, requester, "", t0)
	tier1 := engine.Actor{ID: "tom", Roles: []string{"tier1"}}
	act(t, def, in, "acknowledge", tier1, nil, t0.Add(time.Minute))
	act(t, def, in, "resolve", tier1, map[string]any{"resolution": "rebooted"}, t0.Add(time.Hour))
	if w, _, _ := in.NextWake(def); !w.Equal(t0.Add(time.Hour + 7*24*time.Hour)) {
		t.Fatalf("next wake %v, want 7 days after resolution", w)
	}
	in.Advance(def, t0.Add(7*24*time.Hour))
	if in.State != "resolved" {
		t.Fatalf("closed early: %s", in.State)
	}
	in.Advance(def, t0.Add(8*24*time.Hour))
	if in.State != "closed" || !in.Ended() || !in.EndedAt.Equal(t0.Add(time.Hour+7*24*time.Hour)) {
		t.Fatalf("state %s ended %v", in.State, in.EndedAt)
	}
	if _, _, ok := in.NextWake(def); ok {
		t.Fatal("an ended process still wants to wake")
	}
}

func TestReopenRestartsObservationPeriod(t *testing.T) {
	def := designExample(t)
	in, _ := engine.Start(def, "incident-000003", 1, map[string]any{"title": "x"}, requester, "", t0)
	tier1 := engine.Actor{ID: "tom", Roles: []string{"tier1"}}
	act(t, def, in, "acknowledge", tier1, nil, t0)
	act(t, def, in, "resolve", tier1, map[string]any{"resolution": "r"}, t0.Add(time.Hour))
	act(t, def, in, "reopen", requester, nil, t0.Add(2*24*time.Hour))
	act(t, def, in, "resolve", tier1, map[string]any{"resolution": "r2"}, t0.Add(3*24*time.Hour))
	in.Advance(def, t0.Add(9*24*time.Hour))
	if in.State != "resolved" {
		t.Fatalf("observation period not restarted: %s", in.State)
	}
	in.Advance(def, t0.Add(10*24*time.Hour))
	if in.State != "closed" {
		t.Fatalf("not closed: %s", in.State)
	}
}

func TestCheckRefusesActions(t *testing.T) {
	def := designExample(t)
	in, _ := engine.Start(def, "incident-000004", 1, map[string]any{"title": "x"}, requester, "", t0)
	for _, tc := range []struct {
		name string
		req  engine.ActionRequest
		code string
	}{
		{"WrongState", engine.ActionRequest{Action: "resolve", Actor: desk}, engine.ECONFLICT},
		{"UnknownAction", engine.ActionRequest{Action: "explode", Actor: desk}, engine.ENOTFOUND},
		{"MissingRole", engine.ActionRequest{Action: "acknowledge", Actor: requester}, engine.EFORBIDDEN},
		{"NoRolesAtAll", engine.ActionRequest{Action: "acknowledge", Actor: engine.Actor{ID: "nobody"}}, engine.EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq := in.Seq
			_, err := in.Check(def, tc.req, t0)
			if engine.ErrorCode(err) != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if in.Seq != seq {
				t.Fatal("Check changed the instance")
			}
		})
	}
	t.Run("ConflictListsAllowedActions", func(t *testing.T) {
		_, err := in.Check(def, engine.ActionRequest{Action: "resolve", Actor: desk}, t0)
		if e := err.(*engine.Error); len(e.Allowed) != 1 || e.Allowed[0] != "acknowledge" {
			t.Fatalf("allowed = %v", e.Allowed)
		}
	})
	t.Run("MissingActionInput", func(t *testing.T) {
		act(t, def, in, "acknowledge", desk, nil, t0)
		_, err := in.Check(def, engine.ActionRequest{Action: "resolve", Actor: desk}, t0)
		if e, ok := err.(*engine.Error); !ok || e.Code != engine.EINVALID || e.Details[0].Field != "input.resolution" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("EndedProcess", func(t *testing.T) {
		act(t, def, in, "resolve", desk, map[string]any{"resolution": "r"}, t0)
		act(t, def, in, "close", desk, nil, t0)
		if _, err := in.Check(def, engine.ActionRequest{Action: "reopen", Actor: requester}, t0); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("got %v", err)
		}
	})
}

func TestEventsAreNumberedWithoutGaps(t *testing.T) {
	def := designExample(t)
	in, _ := engine.Start(def, "incident-000005", 1, map[string]any{"title": "x", "priority": "P1"}, requester, "", t0)
	in.Advance(def, t0.Add(5*time.Hour))
	for i, e := range in.Pending {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		if i > 0 && e.At.Before(in.Pending[i-1].At) {
			t.Fatalf("event %d (%s at %v) before its predecessor (%v)", i, e.Type, e.At, in.Pending[i-1].At)
		}
	}
}

func shippedDefinition(t *testing.T) *engine.Definition {
	t.Helper()
	src, err := os.ReadFile("../definitions/incident.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, string(src))
}

// TestPriorityChangeKeepsCountedTime avoids GLPI #6902 (pause time lost when the
// priority changes): a P3 incident paused for 4h and then raised to P1 keeps the
// 1h30m it had counted, and its 2h target falls due 30 minutes later.
func TestPriorityChangeKeepsCountedTime(t *testing.T) {
	def := shippedDefinition(t)
	assessor := engine.Actor{ID: "theo", Roles: []string{"tier3"}}
	in, _ := engine.Start(def, "incident-000007", 1, map[string]any{"title": "x", "priority": "P3"}, requester, "", t0)
	act(t, def, in, "acknowledge", engine.Actor{ID: "tom", Roles: []string{"tier1"}}, nil, t0.Add(10*time.Minute))
	act(t, def, in, "wait_for_customer", assessor, nil, t0.Add(time.Hour))
	act(t, def, in, "customer_replied", requester, nil, t0.Add(5*time.Hour))
	act(t, def, in, "reprioritise", assessor, map[string]any{"priority": "P1", "reason": "whole floor down"}, t0.Add(5*time.Hour+30*time.Minute))

	c := clock(in, "resolution")
	due, _ := c.Due(def)
	if time.Duration(c.Target) != 2*time.Hour || !due.Equal(t0.Add(6*time.Hour)) {
		t.Fatalf("target %v due %v, want 2h due at 6h", time.Duration(c.Target), due.Sub(t0))
	}
	var changed []engine.Event
	for _, e := range in.Pending {
		if e.Type == engine.EventSLATargetChanged {
			changed = append(changed, e)
		}
	}
	if len(changed) != 1 || changed[0].Data["from"] != "1d" || changed[0].Data["to"] != "2h" || changed[0].Data["elapsed"] != "1h30m" {
		t.Fatalf("target change events %+v", changed)
	}
	if in.Priority() != "P1" {
		t.Fatalf("priority %q", in.Priority())
	}
	in.Advance(def, t0.Add(6*time.Hour))
	if c := clock(in, "resolution"); !c.Breached || !c.BreachAt.Equal(t0.Add(6*time.Hour)) {
		t.Fatalf("breach %+v", c)
	}
}

// TestLatePriorityChangeBreachesNowNotInThePast: raising the priority after the
// new target has already been used up breaches at the change, not retroactively.
func TestLatePriorityChangeBreachesNowNotInThePast(t *testing.T) {
	def := shippedDefinition(t)
	assessor := engine.Actor{ID: "theo", Roles: []string{"tier3"}}
	in, _ := engine.Start(def, "incident-000008", 1, map[string]any{"title": "x", "priority": "P3"}, requester, "", t0)
	act(t, def, in, "acknowledge", assessor, nil, t0.Add(10*time.Minute))
	act(t, def, in, "reprioritise", assessor, map[string]any{"priority": "P1", "reason": "r"}, t0.Add(3*time.Hour))
	in.Advance(def, t0.Add(3*time.Hour))
	c := clock(in, "resolution")
	if !c.Breached || !c.BreachAt.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("breach %+v, want at the change (3h)", c)
	}
	for i, e := range in.Pending {
		if i > 0 && e.At.Before(in.Pending[i-1].At) {
			t.Fatalf("event %d (%s) goes back in time", e.Seq, e.Type)
		}
	}
}

func TestChangingTheTargetFieldIsValidated(t *testing.T) {
	src, _ := os.ReadFile("../definitions/incident.yaml")
	bad := strings.Replace(string(src), "priority: {type: enum, values: [P1, P2, P3, P4], required: true}", "priority: {type: enum, values: [P1, P9], required: true}", 1)
	bad = strings.Replace(bad, "do: [{notify: {role: incident-manager}}, {set: {tier: 2}}]", "do: [{notify: {role: incident-manager}}, {set: {tier: 2, priority: P0}}]", 1)
	_, err := engine.Parse([]byte(bad))
	if err == nil || !strings.Contains(err.Error(), `"P9" is not a value of priority`) || !strings.Contains(err.Error(), "P0 is not a value of priority") {
		t.Fatalf("got %v", err)
	}
}

const reminderDefinition = `name: major
initial: restoring
states:
  restoring:
    reminders:
      - every: 1h
        reset_by: [report_progress]
        do: [{notify: {role: regional-manager}}]
    actions:
      report_progress: {to: restoring}
      restored: {to: done}
  done: {final: true}
`

func TestReminderFiresWhenAPeriodPassesWithoutAReport(t *testing.T) {
	def := mustParse(t, reminderDefinition)
	in, _ := engine.Start(def, "major-000001", 1, nil, requester, "", t0)
	sm := engine.Actor{ID: "sm"}
	act(t, def, in, "report_progress", sm, nil, t0.Add(40*time.Minute)) // next report due 1h40m
	in.Advance(def, t0.Add(time.Hour+39*time.Minute))
	if n := eventTypes(in)[engine.EventReminder]; n != 0 {
		t.Fatalf("%d reminders although a report came in time", n)
	}
	in.Advance(def, t0.Add(3*time.Hour+40*time.Minute)) // no report since 40m: missed at 1h40m, 2h40m, 3h40m
	if n := eventTypes(in)[engine.EventReminder]; n != 3 {
		t.Fatalf("%d reminders, want 3", n)
	}
	if n := eventTypes(in)[engine.EventNotification]; n != 3 {
		t.Fatalf("%d notifications, want 3", n)
	}
	act(t, def, in, "restored", sm, nil, t0.Add(4*time.Hour))
	if _, _, ok := in.NextWake(def); ok {
		t.Fatal("a reminder outlived its state")
	}
}

func TestReminderResetByMustBeAnActionOfTheState(t *testing.T) {
	_, err := engine.Parse([]byte(strings.Replace(reminderDefinition, "reset_by: [report_progress]", "reset_by: [report_progres]", 1)))
	if err == nil || !strings.Contains(err.Error(), `states.restoring.reminders[0].reset_by[0]: unknown action of state restoring "report_progres" (did you mean "report_progress"?)`) {
		t.Fatalf("got %v", err)
	}
}
