package workflows

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
)

// WorkflowStarter is the part of a Temporal client that starts workflows.
type WorkflowStarter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// ClientStarter starts the processes that start steps ask for
// (activities.Starter), with the options the API starts processes with.
type ClientStarter struct {
	Client WorkflowStarter
}

// Start starts the process, or does nothing if a workflow with its id is
// running or has run: a retried start activity must not start it twice.
func (s ClientStarter) Start(ctx context.Context, l activities.Launch) error {
	in := Input{ID: l.ID, Definition: l.Definition, Version: l.Version, Input: l.Input, Actor: engine.System, Hash: l.Hash,
		Parent: &ParentRef{ID: l.Parent, Definition: l.ParentDefinition}}
	opts := StartOptions(&in)
	// The id was allocated for this one start step: a closed workflow with it is
	// the same process, already run, not an id to use again.
	opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	_, err := s.Client.ExecuteWorkflow(ctx, opts, ProcessType, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	return err
}

// StartOptions are the options the process in starts with: its id, the task
// queue, and the search attributes the Temporal UI filters on, which it also
// records in in.Attributes — the workflow writes them only once they change.
// (It cannot read them back: a history Temporal serves shows the latest in
// its start event, not the first.)
func StartOptions(in *Input) client.StartWorkflowOptions {
	priority, _ := in.Input["priority"].(string)
	in.Attributes = &Attributes{Definition: in.Definition.Name, State: in.Definition.Initial, Priority: priority}
	return client.StartWorkflowOptions{
		ID:                       in.ID,
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			AttrDefinition.ValueSet(in.Attributes.Definition),
			AttrState.ValueSet(in.Attributes.State),
			AttrPriority.ValueSet(in.Attributes.Priority),
		),
	}
}

// WorkflowUpdater is the part of a Temporal client that sends updates.
type WorkflowUpdater interface {
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

// ClientReleaser delivers meetings' decisions to the processes they decide
// (activities.Releaser) as a workflow update, which the process validates.
type ClientReleaser struct {
	Client WorkflowUpdater
}

// Release sends the decision with key as update id, so a retried activity
// delivers it once. A refusal by the process comes back as its *engine.Error;
// a process that has ended is refused too.
func (r ClientReleaser) Release(ctx context.Context, key string, rel engine.Release) error {
	handle, err := r.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   rel.Process,
		UpdateID:     key,
		UpdateName:   UpdateRelease,
		Args:         []any{rel},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	if e, ok := EngineError(err); ok {
		return e
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return &engine.Error{Code: engine.ECONFLICT, Op: "workflows.Release", Message: fmt.Sprintf("process %s has ended (withdrawn, cancelled or decided otherwise): it no longer waits for this decision", rel.Process)}
	}
	return err
}
