package workflows_test

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
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
		env.RegisterActivityWithOptions((&activities.Activities{Projector: store, Votes: store}).Project, activity.RegisterOptions{Name: "Project"})
		// The test environment counts no events: ten hours into each run,
		// say its history has passed the limit.
		env.RegisterDelayedCallback(func() { env.SetCurrentHistoryLength(61) }, 10*time.Hour+time.Minute)
		env.ExecuteWorkflow(workflows.ProcessType, in)
		err := env.GetWorkflowError()
		var next *workflow.ContinueAsNewError
		if !errors.As(err, &next) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		if err := converter.GetDefaultDataConverter().FromPayloads(next.Input, &in); err != nil {
			t.Fatal(err)
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
