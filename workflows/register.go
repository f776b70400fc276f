package workflows

import (
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
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
}

// Replay re-runs a workflow history against the current code. A nil error means the
// code makes exactly the decisions the history recorded; otherwise the error names
// the first event where they differ.
func Replay(logger log.Logger, history *historypb.History) error {
	r := worker.NewWorkflowReplayer()
	Register(r)
	return r.ReplayWorkflowHistory(logger, history)
}
