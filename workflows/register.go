package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// Registry is where workflows are registered: a worker or a replayer.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers every workflow under its stored name. Worker and replayer both
// use it, so a replay runs exactly the code the worker runs.
func Register(r Registry) {
	r.RegisterWorkflowWithOptions(Process, workflow.RegisterOptions{Name: ProcessType})
	r.RegisterWorkflowWithOptions(Notifier, workflow.RegisterOptions{Name: NotifierType})
}
