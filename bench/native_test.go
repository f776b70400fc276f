package bench

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// memoryProjector receives what the projection activity would store.
type memoryProjector struct {
	mu     sync.Mutex
	events []engine.Event
	view   engine.View
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

func (m *memoryProjector) ProjectCompact(context.Context, engine.View, []engine.Event, engine.ViewPatch) error {
	return errors.New("the native incident projects whole views")
}

func (m *memoryProjector) types() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := map[string]int{}
	for _, e := range m.events {
		n[e.Type+"/"+e.SLA]++
	}
	return n
}

type nativeHarness struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	store *memoryProjector
}

func newNativeHarness(t *testing.T) *nativeHarness {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	RegisterNative(env)
	store := &memoryProjector{}
	env.RegisterActivity(&activities.Activities{Projector: store})
	return &nativeHarness{t: t, env: env, store: store}
}

// at takes an action at offset d; a refusal's error type goes to refused,
// and is an error when refused is nil.
func (h *nativeHarness) at(d time.Duration, s step, refused *string) {
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(workflows.UpdateAction, s.action+d.String(), &testsuite.TestUpdateCallback{
			OnReject: func(err error) {
				var app *temporal.ApplicationError
				switch {
				case refused == nil:
					h.t.Errorf("%s at %v refused: %v", s.action, d, err)
				case errors.As(err, &app):
					*refused = app.Type()
				}
			},
			OnComplete: func(_ any, err error) {
				if err != nil {
					h.t.Errorf("%s at %v failed: %v", s.action, d, err)
				}
			},
		}, engine.ActionRequest{Action: s.action, Actor: s.actor, Input: s.input})
	}, d)
}

func (h *nativeHarness) run() engine.View {
	h.env.ExecuteWorkflow(NativeType, NativeInput{ID: "incident-000001", Version: 1, Input: map[string]any{"title": "Printer", "priority": "P3"}, Actor: requester})
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatal(err)
	}
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	return h.store.view
}

// The benchmark's lifecycle runs to the end: the response clock stops on
// acknowledgement, the resolution clock pauses while waiting for the
// customer and stops on resolution, a close without a waiver is refused,
// and everything reaches the projection.
func TestNativeLifecycle(t *testing.T) {
	h := newNativeHarness(t)
	var early string
	h.at(time.Minute, lifecycle[0], nil)
	h.at(2*time.Minute, lifecycle[1], nil)
	h.at(30*time.Minute, lifecycle[2], nil)
	h.at(40*time.Minute, lifecycle[3], nil)
	h.at(41*time.Minute, lifecycle[5], &early) // close before the waiver
	h.at(42*time.Minute, lifecycle[4], nil)
	h.at(43*time.Minute, lifecycle[5], nil)
	v := h.run()
	if early != engine.ECONFLICT {
		t.Errorf("a close before the waiver was refused with %q, want %q", early, engine.ECONFLICT)
	}
	if v.State != "closed" || v.EndedAt == nil || !v.EndedAt.Equal(t0.Add(43*time.Minute)) {
		t.Fatalf("ended in %q at %v", v.State, v.EndedAt)
	}
	for _, s := range v.SLAs {
		if s.Breached || s.Status != engine.ClockStopped {
			t.Errorf("SLA %s: %+v", s.Name, s)
		}
		// Resolution: 40 minutes less the 28 waiting for the customer.
		if want := map[string]time.Duration{"response": time.Minute, "resolution": 12 * time.Minute}[s.Name]; time.Duration(s.Elapsed) != want {
			t.Errorf("SLA %s used %v, want %v", s.Name, time.Duration(s.Elapsed), want)
		}
	}
	got := h.store.types()
	for _, k := range []string{"action/", "sla_paused/resolution", "sla_resumed/resolution", "sla_stopped/response", "sla_stopped/resolution", "process_ended/"} {
		if got[k] == 0 {
			t.Errorf("no %s event in %v", k, got)
		}
	}
	if got["action/"] != len(lifecycle) {
		t.Errorf("%d actions projected, want %d", got["action/"], len(lifecycle))
	}
}

// Left alone, the incident warns at 75% of its response target, breaches
// at 100%, and once resolved closes itself after the observation week.
func TestNativeBreachAndObservation(t *testing.T) {
	h := newNativeHarness(t)
	h.at(3*time.Hour, lifecycle[0], nil)
	h.at(4*time.Hour, lifecycle[3], nil)
	h.at(5*time.Hour, lifecycle[4], nil)
	v := h.run()
	if v.State != "closed" || v.EndedAt == nil || !v.EndedAt.Equal(t0.Add(4*time.Hour+observation)) {
		t.Fatalf("ended in %q at %v, want closed a week after resolution", v.State, v.EndedAt)
	}
	for _, s := range v.SLAs {
		if s.Name == "response" && (!s.Breached || s.BreachAt == nil || !s.BreachAt.Equal(t0.Add(2*time.Hour))) {
			t.Errorf("response: %+v, want breached at 2h", s)
		}
	}
	got := h.store.types()
	if got["sla_warning/response"] != 1 || got["sla_breached/response"] != 1 || got["timer_fired/"] != 1 {
		t.Errorf("events %v: want a response warning, a breach and the observation timer", got)
	}
}
