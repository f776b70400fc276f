package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/itilflow/itilflow/engine"
)

// Registry is where workflows are registered: a worker or a replayer.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers every workflow under its stored name. Worker and replayer both
// use it, so a replay runs exactly the code the worker runs.
// Processes of one published version share their compiled expressions for as
// long as the worker runs.
func Register(r Registry) {
	shared := engine.NewShared()
	r.RegisterWorkflowWithOptions(func(ctx workflow.Context, in Input) (engine.View, error) {
		return process(ctx, in, shared)
	}, workflow.RegisterOptions{Name: ProcessType})
	r.RegisterWorkflowWithOptions(Notifier, workflow.RegisterOptions{Name: NotifierType})
}
