package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/itilflow/itilflow/temporalserver"
	"github.com/itilflow/itilflow/workflowhealth"
)

// TestWorkerReportsFailingWorkflowTasks runs a worker as the stack builds it,
// against a real Temporal server, into the two failures its panic policy
// blocks: workflow code that panics, and code that no longer replays the
// history it recorded. Both must reach the monitor with the workflow's id, and
// both workflows must stay open (blocked, not failed).
func TestWorkerReportsFailingWorkflowTasks(t *testing.T) {
	ctx := context.Background()
	ts, err := temporalserver.Start(ctx, temporalserver.Options{LogLevel: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Stop() })
	mon := workflowhealth.New()
	tc, err := ts.NewClient(watchedBy(mon, nil, client.Options{Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	const queue = "health-test"
	newWorker := func(changes func(workflow.Context) error) worker.Worker {
		w := worker.New(tc, queue, workerOptions(time.Second, newRunningActivities()))
		w.RegisterWorkflowWithOptions(func(workflow.Context) error { panic("index out of range [3] with length 3") },
			workflow.RegisterOptions{Name: "test.Panics"})
		w.RegisterWorkflowWithOptions(changes, workflow.RegisterOptions{Name: "test.Changes"})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		return w
	}
	// The recorded code waits on a timer for its signal; the changed code
	// waits without one, which the history contradicts.
	recorded := func(ctx workflow.Context) error {
		workflow.NewTimer(ctx, time.Hour)
		workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
		return nil
	}
	changed := func(ctx workflow.Context) error {
		workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
		return nil
	}
	start := func(id, typ string) {
		if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, typ); err != nil {
			t.Fatal(err)
		}
	}
	failing := func(id string) (workflowhealth.Failure, bool) {
		for _, f := range mon.Report(10).Failing {
			if f.WorkflowID == id {
				return f, true
			}
		}
		return workflowhealth.Failure{}, false
	}
	waitFailing := func(id string) workflowhealth.Failure {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if f, ok := failing(id); ok {
				return f
			}
		}
		t.Fatalf("%s not reported within 30s: %+v", id, mon.Report(10))
		return workflowhealth.Failure{}
	}
	stillOpen := func(id string) {
		t.Helper()
		desc, err := tc.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if s := desc.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Fatalf("%s is %v: the panic policy must block it, not end it", id, s)
		}
	}

	w := newWorker(recorded)
	start("changes-1", "test.Changes")
	// Its first workflow task is done once the timer is in the history.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		desc, err := tc.DescribeWorkflowExecution(ctx, "changes-1", "")
		if err == nil && desc.GetPendingWorkflowTask() == nil && desc.GetWorkflowExecutionInfo().GetHistoryLength() > 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the recorded code did not run its first task within 30s")
		}
	}
	w.Stop()
	w = newWorker(changed)
	defer w.Stop()
	if err := tc.SignalWorkflow(ctx, "changes-1", "", "go", nil); err != nil {
		t.Fatal(err)
	}
	start("panics-1", "test.Panics")

	t.Run("NonDeterminism", func(t *testing.T) {
		f := waitFailing("changes-1")
		if f.Cause != workflowhealth.CauseNonDeterminism || f.WorkflowType != "test.Changes" || !strings.Contains(f.LastError, "TMPRL1100") {
			t.Fatalf("reported %+v", f)
		}
		stillOpen("changes-1")
	})
	t.Run("Panic", func(t *testing.T) {
		f := waitFailing("panics-1")
		if f.Cause != workflowhealth.CausePanic || f.WorkflowType != "test.Panics" || f.LastError != "index out of range [3] with length 3" {
			t.Fatalf("reported %+v", f)
		}
		stillOpen("panics-1")
	})
	t.Run("CountedByTheMetricsHandler", func(t *testing.T) {
		counts := map[string]int64{}
		for _, c := range mon.Report(10).TaskFailures {
			counts[c.WorkflowType+" "+c.Reason] += c.Count
		}
		if counts["test.Changes NonDeterminismError"] == 0 || counts["test.Panics WorkflowError"] == 0 {
			t.Fatalf("the SDK's counts: %v", counts)
		}
	})
	t.Run("RecoveredWorkflowsAreForgotten", func(t *testing.T) {
		if err := tc.TerminateWorkflow(ctx, "panics-1", "", "fixed by hand"); err != nil {
			t.Fatal(err)
		}
		// Past the time Temporal needs to record a failure the SDK logged.
		mon.Now = func() time.Time { return time.Now().Add(time.Minute) }
		mon.Recheck(ctx, tc)
		if _, ok := failing("panics-1"); ok {
			t.Fatal("a terminated workflow is still reported")
		}
		if f, ok := failing("changes-1"); !ok || f.Attempt < 2 {
			t.Fatalf("a workflow that still fails is forgotten or its attempt not updated: %+v", f)
		}
	})
}
