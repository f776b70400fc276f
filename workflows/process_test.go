package workflows_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

var (
	desk      = engine.Actor{ID: "sam", Roles: []string{"service-desk"}}
	tier1     = engine.Actor{ID: "tom", Roles: []string{"tier1"}}
	requester = engine.Actor{ID: "rita", Roles: []string{"requester"}}
)

// memoryProjector is the projection store of these tests: the real activity runs
// and writes here, so the tests see exactly what PostgreSQL would receive.
type memoryProjector struct {
	mu     sync.Mutex
	events []engine.Event
	view   engine.View
	opened int64
}

func (m *memoryProjector) Project(_ context.Context, v engine.View, events []engine.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range events {
		if e.Seq != int64(len(m.events))+1 {
			return errors.New("events out of order or duplicated")
		}
		m.events = append(m.events, e)
	}
	m.view = v
	return nil
}

// ProjectCompact merges a compact view as the store does.
func (m *memoryProjector) ProjectCompact(ctx context.Context, v engine.View, events []engine.Event, patch engine.ViewPatch) error {
	m.mu.Lock()
	var prev *engine.View
	if len(m.events) > 0 {
		prev = &m.view
	}
	var fresh []engine.Event
	for _, e := range events {
		if e.Seq > int64(len(m.events)) {
			fresh = append(fresh, e)
		}
	}
	merged := engine.MergeView(prev, m.opened, v, patch, fresh)
	m.opened = patch.Opened
	m.mu.Unlock()
	return m.Project(ctx, merged, fresh)
}

// ItemVotes reads a meeting's votes on an item back from its events.
func (m *memoryProjector) ItemVotes(_ context.Context, _, item string) ([]engine.Vote, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []engine.Vote
	for _, e := range m.events {
		if v, ok := engine.VoteOf(e); ok && v.Item == item {
			out = append(out, v)
		}
	}
	return out, nil
}

func (m *memoryProjector) find(typ, sla string) []engine.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []engine.Event
	for _, e := range m.events {
		if e.Type == typ && (sla == "" || e.SLA == sla) {
			out = append(out, e)
		}
	}
	return out
}

type harness struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	store *memoryProjector
}

func newHarness(t *testing.T) *harness { return newHarnessWith(t, &activities.Activities{}) }

// newHarnessWith registers acts, with the memory projector as its Projector.
func newHarnessWith(t *testing.T, acts *activities.Activities) *harness {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	// As a worker registers it: definitions shared by content.
	env.RegisterWorkflowWithOptions(workflows.ProcessWith(engine.NewShared(), workflows.DefaultLimits), workflow.RegisterOptions{Name: workflows.ProcessType})
	store := &memoryProjector{}
	acts.Projector = store
	if acts.Votes == nil {
		acts.Votes = store
	}
	env.RegisterActivity(acts)
	return &harness{t: t, env: env, store: store}
}

func incident(t *testing.T) engine.Definition {
	src, err := os.ReadFile("../definitions/incident.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def, err := engine.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return *def
}

// at schedules an action at offset d from the start; rejected receives the
// validator's error code (or "" when accepted).
func (h *harness) at(d time.Duration, action string, actor engine.Actor, input map[string]any, rejected *string) {
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(workflows.UpdateAction, action+d.String(), &testsuite.TestUpdateCallback{
			OnReject: func(err error) {
				if rejected == nil {
					h.t.Errorf("%s at %v rejected: %v", action, d, err)
					return
				}
				var app *temporal.ApplicationError
				if errors.As(err, &app) {
					*rejected = app.Type()
				}
			},
			OnComplete: func(_ any, err error) {
				if err != nil {
					h.t.Errorf("%s at %v failed: %v", action, d, err)
				}
			},
		}, engine.ActionRequest{Action: action, Actor: actor, Input: input})
	}, d)
}

func (h *harness) run(def engine.Definition, input map[string]any) engine.View {
	return h.runInput(workflows.Input{ID: "incident-000001", Definition: def, Version: 1, Input: input, Actor: requester})
}

func (h *harness) runInput(in workflows.Input) engine.View {
	h.env.ExecuteWorkflow(workflows.ProcessType, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	var v engine.View
	if err := h.env.GetWorkflowResult(&v); err != nil {
		h.t.Fatal(err)
	}
	return v
}

func TestProcessBreachEscalatesAndObservationCloses(t *testing.T) {
	h := newHarness(t)
	h.at(40*time.Minute, "acknowledge", tier1, nil, nil)
	h.at(50*time.Minute, "resolve", tier1, map[string]any{"resolution": "replaced switch", "knowledge": "knowledge-000001"}, nil)
	v := h.run(incident(t), map[string]any{"title": "core switch down", "priority": "P1"})

	breaches := h.store.find(engine.EventSLABreached, "response")
	if len(breaches) != 1 || !breaches[0].At.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("response breaches %+v, want one at 30m", breaches)
	}
	var toManager int
	for _, n := range h.store.find(engine.EventNotification, "response") {
		if n.Data["role"] == "incident-manager" {
			toManager++
		}
	}
	if toManager != 1 {
		t.Fatalf("incident manager notified %d times about the response breach", toManager)
	}
	if len(h.store.find(engine.EventSLABreached, "resolution")) != 0 {
		t.Fatal("resolution breached although resolved within 2h")
	}
	fired := h.store.find(engine.EventTimerFired, "")
	if len(fired) != 1 || !fired[0].At.Equal(t0.Add(50*time.Minute+7*24*time.Hour)) {
		t.Fatalf("observation timer %+v, want 7 days after resolution", fired)
	}
	if v.State != "closed" || h.store.view.State != "closed" || h.store.view.Seq != int64(len(h.store.events)) {
		t.Fatalf("final view %s, projected %s (seq %d of %d)", v.State, h.store.view.State, h.store.view.Seq, len(h.store.events))
	}
}

func TestProcessPausesResolutionWhileWaitingForCustomer(t *testing.T) {
	h := newHarness(t)
	h.at(5*time.Minute, "acknowledge", tier1, nil, nil)
	h.at(1*time.Hour, "wait_for_customer", tier1, nil, nil)
	h.at(5*time.Hour, "customer_replied", requester, nil, nil) // 4h paused
	h.at(5*time.Hour+30*time.Minute, "resolve", tier1, map[string]any{"resolution": "config fixed", "knowledge": "knowledge-000002"}, nil)
	h.at(6*time.Hour, "close", desk, nil, nil)
	h.run(incident(t), map[string]any{"title": "mail slow", "priority": "P1"}) // resolution 2h

	if b := h.store.find(engine.EventSLABreached, "resolution"); len(b) != 0 {
		t.Fatalf("resolution breached while paused: %+v", b)
	}
	paused, resumed := h.store.find(engine.EventSLAPaused, "resolution"), h.store.find(engine.EventSLAResumed, "resolution")
	if len(paused) != 1 || len(resumed) != 1 || !resumed[0].At.Equal(t0.Add(5*time.Hour)) {
		t.Fatalf("paused %+v resumed %+v", paused, resumed)
	}
	stopped := h.store.find(engine.EventSLAStopped, "resolution")
	if len(stopped) != 1 || stopped[0].Data["elapsed"] != "1h30m" || stopped[0].Data["met"] != true {
		t.Fatalf("stopped %+v, want met after 1h30m of counted time", stopped)
	}
}

func TestProcessRefusesActionsWithoutTrace(t *testing.T) {
	h := newHarness(t)
	var byRequester, wrongState, badInput, unknown string
	h.at(time.Minute, "acknowledge", requester, nil, &byRequester)
	h.at(2*time.Minute, "resolve", desk, map[string]any{"resolution": "x"}, &wrongState)
	h.at(3*time.Minute, "cancel", desk, map[string]any{"reason": 7}, &badInput)
	h.at(4*time.Minute, "explode", desk, nil, &unknown)
	h.at(5*time.Minute, "cancel", desk, map[string]any{"reason": "duplicate of incident-000000"}, nil)
	v := h.run(incident(t), map[string]any{"title": "dup"})

	for got, want := range map[*string]string{&byRequester: engine.EFORBIDDEN, &wrongState: engine.ECONFLICT, &badInput: engine.EINVALID, &unknown: engine.ENOTFOUND} {
		if *got != want {
			t.Errorf("rejection %q, want %q", *got, want)
		}
	}
	if v.State != "cancelled" {
		t.Fatalf("state %s", v.State)
	}
	if actions := h.store.find(engine.EventAction, ""); len(actions) != 1 || actions[0].Action != "cancel" {
		t.Fatalf("refused actions left events: %+v", actions)
	}
}

// TestProcessEndsWhenCancelled: an operator may cancel a workflow from the
// Temporal UI; the process must stop, whether a timer is pending (it must not
// spin on timers that resolve at once) or none is (it must still wake up).
func TestProcessEndsWhenCancelled(t *testing.T) {
	for name, at := range map[string]time.Duration{"WithTimerPending": time.Minute, "WithNothingPending": 26*time.Hour + time.Minute} {
		t.Run(name, func(t *testing.T) { cancelAt(t, at) })
	}
}

func cancelAt(t *testing.T, at time.Duration) {
	h := newHarness(t)
	h.env.SetTestTimeout(5 * time.Second)
	// P1: acknowledged at once; resolution breaches at 2h, which starts the
	// replacement clock; it breaches at 26h, after which nothing is due.
	h.at(time.Second, "acknowledge", tier1, nil, nil)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, at)
	h.env.ExecuteWorkflow(workflows.ProcessType, workflows.Input{ID: "incident-000001", Definition: incident(t), Version: 1,
		Input: map[string]any{"title": "cancel me", "priority": "P1"}, Actor: requester})
	if !h.env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var canceled *temporal.CanceledError
	if err := h.env.GetWorkflowError(); !errors.As(err, &canceled) {
		t.Fatalf("workflow error %v, want cancelled", err)
	}
	// The projection shows the process ended, with every clock stopped.
	if h.store.view.EndedAt == nil || len(h.store.find(engine.EventCancelled, "")) != 1 {
		t.Fatalf("projection after cancel: ended %v, events %v", h.store.view.EndedAt, h.store.events)
	}
	// A clock still pending never started (the replacement clock before the
	// resolution breach): it has nothing to stop.
	for _, c := range h.store.view.SLAs {
		if c.Status != engine.ClockStopped && c.Status != engine.ClockPending {
			t.Fatalf("SLA %s still %s after cancel", c.Name, c.Status)
		}
	}
}
