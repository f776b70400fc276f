package workflowhealth

import (
	"context"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// Trouble is what holds a running workflow back.
type Trouble struct {
	// Task is set when the workflow task keeps failing (TaskFailing).
	Task *TaskTrouble
	// Activities are those retrying: on their minAttempts-th attempt or later.
	Activities []ActivityTrouble
}

// TaskTrouble is a workflow task that keeps failing.
type TaskTrouble struct {
	Attempt int32
	// Since is when the failing task was first scheduled.
	Since time.Time
	// Cause and Message are those of the last WorkflowTaskFailed event of the
	// history: the SDK reports a task's first failure to Temporal and lets
	// the retries time out, so that event holds what went wrong. Both are
	// empty if the history has none (the task only ever timed out).
	Cause   enumspb.WorkflowTaskFailedCause
	Message string
}

// ActivityTrouble is an activity that keeps failing.
type ActivityTrouble struct {
	ID, Type string
	Attempt  int32
	// MaximumAttempts is 0 for unlimited.
	MaximumAttempts int32
	LastFailure     string
	// NextAttempt is when the next attempt is due; zero while one runs.
	NextAttempt time.Time
}

// historyPages bounds how far back Inspect looks for the failed task's event:
// a stuck workflow records nothing after it but what it is sent.
const historyPages = 10

// Inspect tells what holds back a workflow of namespace that desc describes:
// a workflow task that keeps failing, with its failure from the history, and
// activities on their minAttempts-th attempt or later.
func Inspect(ctx context.Context, ws workflowservice.WorkflowServiceClient, namespace string, desc *workflowservice.DescribeWorkflowExecutionResponse, minAttempts int32) (Trouble, error) {
	var t Trouble
	for _, a := range desc.GetPendingActivities() {
		if a.GetAttempt() < minAttempts {
			continue
		}
		at := ActivityTrouble{ID: a.GetActivityId(), Type: a.GetActivityType().GetName(), Attempt: a.GetAttempt(),
			MaximumAttempts: a.GetMaximumAttempts(), LastFailure: a.GetLastFailure().GetMessage()}
		if a.GetNextAttemptScheduleTime() != nil {
			at.NextAttempt = a.GetNextAttemptScheduleTime().AsTime()
		}
		t.Activities = append(t.Activities, at)
	}
	if !TaskFailing(desc) {
		return t, nil
	}
	wt := desc.GetPendingWorkflowTask()
	t.Task = &TaskTrouble{Attempt: wt.GetAttempt(), Since: wt.GetOriginalScheduledTime().AsTime()}
	exec := desc.GetWorkflowExecutionInfo().GetExecution()
	req := &workflowservice.GetWorkflowExecutionHistoryReverseRequest{Namespace: namespace,
		Execution: &commonpb.WorkflowExecution{WorkflowId: exec.GetWorkflowId(), RunId: exec.GetRunId()}, MaximumPageSize: 100}
	for range historyPages {
		resp, err := ws.GetWorkflowExecutionHistoryReverse(ctx, req)
		if err != nil {
			return t, err
		}
		for _, e := range resp.GetHistory().GetEvents() {
			if a := e.GetWorkflowTaskFailedEventAttributes(); a != nil {
				t.Task.Cause, t.Task.Message = a.GetCause(), a.GetFailure().GetMessage()
				return t, nil
			}
		}
		if len(resp.GetNextPageToken()) == 0 {
			break
		}
		req.NextPageToken = resp.GetNextPageToken()
	}
	return t, nil
}
