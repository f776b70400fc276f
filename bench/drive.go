package bench

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/workflows"
)

// Kind is which workflow runs a lifecycle.
type Kind string

const (
	Interp Kind = "interp"
	Native Kind = "native"
)

// The people of the lifecycle, with the roles dev-users.yaml gives them.
var (
	requester = engine.Actor{ID: "rita.requester", Roles: []string{"requester"}}
	tier1     = engine.Actor{ID: "tom.tier1", Roles: []string{"tier1"}}
	desk      = engine.Actor{ID: "sam.desk", Roles: []string{"service-desk"}}
)

// step is one action of the lifecycle.
type step struct {
	action string
	actor  engine.Actor
	input  map[string]any
}

// lifecycle is incident.yaml's path that the benchmark takes, as
// cmd/itilflow's BenchmarkIncidentLifecycleHistory takes it.
var lifecycle = []step{
	{"acknowledge", tier1, nil},
	{"wait_for_customer", tier1, nil},
	{"customer_replied", requester, nil},
	{"resolve", tier1, map[string]any{"resolution": "Replaced the toner"}},
	{"waive_knowledge", desk, map[string]any{"knowledge_waiver": "toner needs no article"}},
	{"close", desk, map[string]any{"satisfaction": "5"}},
}

// Driver takes incidents through the lifecycle as the service layer does: a
// start with an update (service.Start), then each action as an update
// (service.Act), each followed by a wait until PostgreSQL holds the change
// (service.after).
type Driver struct {
	Temporal client.Client
	Store    *store.Store
	Incident store.Definition
}

// Lifecycle runs one incident of kind from start to close and returns its id
// and the latency of each action's update.
func (d Driver) Lifecycle(ctx context.Context, kind Kind) (string, []time.Duration, error) {
	id, err := d.start(ctx, kind)
	if err != nil {
		return "", nil, err
	}
	lat := make([]time.Duration, 0, len(lifecycle))
	for _, s := range lifecycle {
		begin := time.Now()
		res, err := d.update(ctx, id, workflows.UpdateAction, engine.ActionRequest{Action: s.action, Actor: s.actor, Input: s.input})
		if err != nil {
			return id, lat, fmt.Errorf("%s %s: %w", id, s.action, err)
		}
		lat = append(lat, time.Since(begin))
		if err := d.awaitProjection(ctx, id, res.Seq); err != nil {
			return id, lat, fmt.Errorf("%s %s: %w", id, s.action, err)
		}
	}
	return id, lat, nil
}

// start starts an incident of kind as service.Start does: an update-with-start
// of the sync update, with the search attributes the service sets.
func (d Driver) start(ctx context.Context, kind Kind) (string, error) {
	in, err := engine.ValidateInput(d.Incident.Compiled.Input, map[string]any{"title": "Printer", "priority": "P3"}, "input")
	if err != nil {
		return "", fmt.Errorf("incident input: %w", err)
	}
	id, err := d.Store.NextProcessID(ctx, d.Incident.Name)
	if err != nil {
		return "", fmt.Errorf("process id: %w", err)
	}
	// The options the service starts a process with, search attributes
	// included, which the interpreter is told of (Input.Attributes).
	win := workflows.Input{ID: id, Definition: d.Incident.Compiled, Version: d.Incident.Version, Input: in, Actor: requester, Hash: d.Incident.Hash}
	opts := workflows.StartOptions(&win)
	var op client.WithStartWorkflowOperation
	switch kind {
	case Interp:
		op = d.Temporal.NewWithStartWorkflowOperation(opts, workflows.ProcessType, win)
	case Native:
		op = d.Temporal.NewWithStartWorkflowOperation(opts, NativeType, NativeInput{ID: id, Version: d.Incident.Version, Input: in, Actor: requester})
	default:
		return "", fmt.Errorf("unknown workflow kind %q", kind)
	}
	uctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	handle, err := d.Temporal.UpdateWithStartWorkflow(uctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions:          client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateSync, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err != nil {
		return "", fmt.Errorf("start %s: %w", kind, err)
	}
	var res workflows.Result
	if err := handle.Get(uctx, &res); err != nil {
		return "", fmt.Errorf("start %s: %w", kind, err)
	}
	return id, d.awaitProjection(ctx, id, res.Seq)
}

// updateTimeout is the service's bound on one update (service.updateTimeout).
const updateTimeout = 30 * time.Second

// update sends an update and waits for its result, as service.send does.
func (d Driver) update(ctx context.Context, id, name string, req any) (workflows.Result, error) {
	uctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	handle, err := d.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateName:   name,
		Args:         []any{req},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.Result
	if err == nil {
		err = handle.Get(uctx, &res)
	}
	return res, err
}

// projectionWait is the service's bound on waiting for a projection.
const projectionWait = 10 * time.Second

// awaitProjection polls the stored sequence number until it reaches seq,
// with service.awaitProjection's pauses (5 ms doubling up to 200 ms).
func (d Driver) awaitProjection(ctx context.Context, id string, seq int64) error {
	deadline := time.Now().Add(projectionWait)
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		if got, err := d.Store.ProcessSeq(ctx, id); err == nil && got >= seq {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("projection of %s did not reach event %d within %s", id, seq, projectionWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// HistoryEvents waits until the workflow id has closed and counts the events
// of its history.
func (d Driver) HistoryEvents(ctx context.Context, id string) (int, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		desc, err := d.Temporal.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			return 0, fmt.Errorf("describe %s: %w", id, err)
		}
		if desc.GetWorkflowExecutionInfo().GetCloseTime() != nil {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("workflow %s did not close within 30s of its last action", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
	n := 0
	it := d.Temporal.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			return 0, fmt.Errorf("history of %s: %w", id, err)
		}
		n++
	}
	return n, nil
}
