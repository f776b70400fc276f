package workflows_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

// reminded is reminded every hour until it is closed after two days.
const reminded = `
name: watch
input:
  title: {type: string, required: true}
initial: open
states:
  open:
    reminders:
      - every: 1h
        do: [{notify: {role: incident-manager}}]
    timers:
      - {after: 48h, action: close}
    actions:
      close: {to: closed}
  closed: {final: true}
`

// continuedAsNew reports whether the run in env ended by continuing as new,
// with the next run's input in in; the run failing ends the test.
func continuedAsNew(t *testing.T, env *testsuite.TestWorkflowEnvironment, in *workflows.Input) bool {
	t.Helper()
	err := env.GetWorkflowError()
	var next *workflow.ContinueAsNewError
	if !errors.As(err, &next) {
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(next.Input, in); err != nil {
		t.Fatal(err)
	}
	return true
}

// TestALongProcessContinuesAsNew runs a process reminded every hour for two
// days under a small limit of events a run: it continues as new several
// times, each run taking over where the last one stopped, and the record is
// the one run would have made — every reminder once, events numbered without
// gaps, closed at 48h.
func TestALongProcessContinuesAsNew(t *testing.T) {
	store := &memoryProjector{}
	in := workflows.Input{ID: "watch-000001", Definition: parse(t, reminded), Version: 1, Input: map[string]any{"title": "backup job"}, Actor: requester}
	start := t0
	runs := 0
	for {
		runs++
		if runs > 20 {
			t.Fatal("the process did not end within 20 runs")
		}
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		env.SetStartTime(start)
		env.RegisterWorkflowWithOptions(workflows.ProcessWith(nil, workflows.Limits{Events: 60}), workflow.RegisterOptions{Name: workflows.ProcessType})
		env.RegisterActivity(&activities.Activities{Projector: store, Votes: store})
		// The test environment counts no events: ten hours into each run,
		// say its history has passed the limit.
		env.RegisterDelayedCallback(func() { env.SetCurrentHistoryLength(61) }, 10*time.Hour+time.Minute)
		env.ExecuteWorkflow(workflows.ProcessType, in)
		if !continuedAsNew(t, env, &in) {
			break
		}
		if in.Resume == nil || in.Resume.Run != runs+1 || in.Resume.Limits.Events != 60 {
			t.Fatalf("run %d continued with %+v", runs, in.Resume)
		}
		start = env.Now() // the next run starts when this one ended
	}
	if runs < 3 {
		t.Fatalf("%d runs: the limit did not make the process continue as new", runs)
	}
	reminders := store.find(engine.EventReminder, "")
	if len(reminders) != 47 {
		t.Fatalf("%d reminders over 48 hours across %d runs, want 47", len(reminders), runs)
	}
	for i, r := range reminders {
		if want := t0.Add(time.Duration(i+1) * time.Hour); !r.At.Equal(want) {
			t.Fatalf("reminder %d at %s, want %s", i, r.At, want)
		}
	}
	if store.view.State != "closed" || store.view.EndedAt == nil || !store.view.EndedAt.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("ended %s at %v", store.view.State, store.view.EndedAt)
	}
}

// TestAMeetingContinuesAsNewBetweenVotes: a meeting whose run fills up after
// its first decision goes on in a new run with its agenda, votes and
// decisions, and its second change is decided and released there.
func TestAMeetingContinuesAsNewBetweenVotes(t *testing.T) {
	rel := &releaser{}
	store := &memoryProjector{}
	cm := engine.Actor{ID: "carl", Roles: []string{"change-manager"}}
	newEnv := func(start time.Time) *harness {
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		env.SetStartTime(start)
		env.RegisterWorkflowWithOptions(workflows.ProcessWith(nil, workflows.Limits{Events: 1000}), workflow.RegisterOptions{Name: workflows.ProcessType})
		env.RegisterActivity(&activities.Activities{Projector: store, Votes: store, Boards: boards{items: agenda}, Releaser: rel})
		return &harness{t: t, env: env, store: store}
	}
	in := workflows.Input{ID: "cab-000001", Definition: meetingDefinition(t), Version: 1, Actor: cm}

	h := newEnv(t0)
	h.at(time.Minute, "publish", cm, nil, nil)
	h.vote(2*time.Minute, "ann", "approve", "change-1", nil)
	h.env.RegisterDelayedCallback(func() { h.env.SetCurrentHistoryLength(1001) }, 150*time.Second)
	h.vote(3*time.Minute, "cem", "approve", "change-1", nil) // decides change-1
	h.env.ExecuteWorkflow(workflows.ProcessType, in)
	var next *workflow.ContinueAsNewError
	if !errors.As(h.env.GetWorkflowError(), &next) {
		t.Fatalf("the first run ended with %v, want it to continue as new", h.env.GetWorkflowError())
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(next.Input, &in); err != nil {
		t.Fatal(err)
	}
	if len(rel.released) != 1 || rel.released[0].Process != "change-1" || rel.released[0].Votes[1].Actor != "cem" {
		t.Fatalf("released in the first run: %+v", rel.released)
	}

	h = newEnv(h.env.Now())
	var again string
	h.vote(time.Minute, "cem", "approve", "change-1", &again) // decided in the first run
	h.vote(2*time.Minute, "bob", "approve", "change-2", nil)
	h.vote(3*time.Minute, "cem", "approve", "change-2", nil)
	h.env.ExecuteWorkflow(workflows.ProcessType, in)
	if err := h.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if again != engine.ECONFLICT {
		t.Fatalf("a vote on the change decided in the first run: %q", again)
	}
	if len(rel.released) != 2 || rel.released[1].Process != "change-2" {
		t.Fatalf("released: %+v", rel.released)
	}
	if store.view.State != "done" || len(store.find(engine.EventDecisionReleased, "")) != 2 {
		t.Fatalf("state %s, %d releases recorded", store.view.State, len(store.find(engine.EventDecisionReleased, "")))
	}
}

// TestAMajorIncidentThrough500HourlyReminders runs the shipped major incident
// declared for 500 hours, reminded every hour, under a run limit of 1,000
// events with the history growing as it does on a real server (six events a
// reminder: its timer firing, a workflow task, the projection, the next
// timer). It continues as new several times, carrying the instance across;
// command is taken, service restored and the report filed in the last run
// through updates. The record is the one one run would have made: 500
// reminders an hour apart, each SLA breached once, events numbered without
// gaps, closed.
func TestAMajorIncidentThrough500HourlyReminders(t *testing.T) {
	src, err := os.ReadFile("../definitions/major-incident.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def, err := engine.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	store := &memoryProjector{}
	acts := &activities.Activities{Projector: store, Votes: store, Directory: directory{"users-network": {"una"}}}
	in := workflows.Input{ID: "major-incident-000001", Definition: *def, Version: 1,
		Input: map[string]any{"title": "core network down", "service": "network"}, Actor: requester}
	manager := engine.Actor{ID: "ivan", Roles: []string{"incident-manager"}}
	actions := []struct {
		at     time.Duration // since the declaration
		action string
		input  map[string]any
	}{
		{500*time.Hour + 30*time.Minute, "take_command", nil},
		{500*time.Hour + 40*time.Minute, "restored", map[string]any{"summary": "line card replaced"}},
		{501 * time.Hour, "submit_report", map[string]any{"report": "written"}},
	}
	const perReminder, limit = 6, 1000
	start, runs := t0, 0
	for {
		runs++
		if runs > 20 {
			t.Fatal("the process did not end within 20 runs")
		}
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		env.SetStartTime(start)
		env.RegisterWorkflowWithOptions(workflows.ProcessWith(nil, workflows.Limits{Events: limit}), workflow.RegisterOptions{Name: workflows.ProcessType})
		env.RegisterActivity(acts)
		// The test environment counts no events: each hour of this run adds a
		// reminder's worth.
		for h := 1; h*perReminder < 2*limit; h++ {
			env.RegisterDelayedCallback(func() { env.SetCurrentHistoryLength(h * perReminder) }, time.Duration(h)*time.Hour+time.Minute)
		}
		for _, a := range actions {
			if d := t0.Add(a.at).Sub(start); d > 0 {
				env.RegisterDelayedCallback(func() {
					env.UpdateWorkflow(workflows.UpdateAction, a.action, &testsuite.TestUpdateCallback{
						OnReject:   func(err error) { t.Errorf("%s refused: %v", a.action, err) },
						OnComplete: func(_ any, err error) {},
					}, engine.ActionRequest{Action: a.action, Actor: manager, Input: a.input})
				}, d)
			}
		}
		env.ExecuteWorkflow(workflows.ProcessType, in)
		if !continuedAsNew(t, env, &in) {
			break
		}
		if in.Resume == nil || in.Resume.Run != runs+1 || in.Resume.Instance.State != "declared" {
			t.Fatalf("run %d continued with %+v", runs, in.Resume)
		}
		start = env.Now()
	}
	if runs < 3 {
		t.Fatalf("%d runs: the limit did not make the process continue as new", runs)
	}
	reminders := store.find(engine.EventReminder, "")
	if len(reminders) != 500 {
		t.Fatalf("%d reminders over 500 hours across %d runs, want 500", len(reminders), runs)
	}
	for i, r := range reminders {
		if want := t0.Add(time.Duration(i+1) * time.Hour); !r.At.Equal(want) {
			t.Fatalf("reminder %d at %s, want %s", i+1, r.At, want)
		}
	}
	for _, sla := range []string{"response", "restoration"} {
		if n := len(store.find(engine.EventSLABreached, sla)); n != 1 {
			t.Errorf("%s breached %d times, want once", sla, n)
		}
	}
	for i, e := range store.events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i+1, e.Seq)
		}
	}
	if store.view.State != "closed" || store.view.EndedAt == nil || !store.view.EndedAt.Equal(t0.Add(501*time.Hour)) {
		t.Fatalf("ended %s at %v", store.view.State, store.view.EndedAt)
	}
	t.Logf("500 reminders in %d runs", runs)
}

// TestAProcessTooLargeToCarryStaysInItsRun: a process whose instance would
// not fit in the input of a new run (Temporal refuses a task that carries
// more than 2 MB) does not try, and fail its task for ever: it goes on in
// the run it has, and ends there.
func TestAProcessTooLargeToCarryStaysInItsRun(t *testing.T) {
	store := &memoryProjector{}
	huge := strings.Repeat("变更评审意见：风险可控。", 50_000) // 1.8 MB
	in := workflows.Input{ID: "watch-000001", Definition: parse(t, reminded), Version: 1, Input: map[string]any{"title": huge}, Actor: requester}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	env.RegisterWorkflowWithOptions(workflows.ProcessWith(nil, workflows.Limits{Events: 60}), workflow.RegisterOptions{Name: workflows.ProcessType})
	env.RegisterActivity(&activities.Activities{Projector: store, Votes: store})
	env.RegisterDelayedCallback(func() { env.SetCurrentHistoryLength(61) }, 10*time.Hour+time.Minute)
	env.ExecuteWorkflow(workflows.ProcessType, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("the run ended with %v, want it to end the process itself", err)
	}
	if n := len(store.find(engine.EventReminder, "")); n != 47 || store.view.State != "closed" {
		t.Fatalf("%d reminders, state %s; want 47 and closed in one run", n, store.view.State)
	}
}
