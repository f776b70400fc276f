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
	RegisterWith(r, DefaultLimits)
}

// RegisterWith is Register with other limits of a run (tests keep them small).
func RegisterWith(r Registry, limits Limits) {
	r.RegisterWorkflowWithOptions(ProcessWith(engine.NewShared(), limits), workflow.RegisterOptions{Name: ProcessType})
	r.RegisterWorkflowWithOptions(Notifier, workflow.RegisterOptions{Name: NotifierType})
}
