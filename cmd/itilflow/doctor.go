package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/workflowhealth"
	"github.com/itilflow/itilflow/workflows"
)

// runDoctor implements `itilflow doctor`: it lists what keeps workflows from
// making progress, across every worker — workflow tasks that keep failing
// (with the failure from the history), processes open in PostgreSQL whose
// workflow closed, and activities that keep retrying — and fails when it
// found any, so a monitor can run it.
func runDoctor(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("doctor", getenv, stderr)
	minAttempts := f.int("activity-attempts", 3, "report an activity from this attempt on (it failed one fewer times)")
	conn := temporalFlags(f)
	loc := f.local()
	if err := f.parse(args); err != nil {
		return err
	}
	if *minAttempts < 2 {
		return fmt.Errorf("--activity-attempts is %d: an activity is retrying from its 2nd attempt", *minAttempts)
	}
	st, err := openStore(ctx, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	tc, err := conn.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()

	open, err := st.OpenProcesses(ctx)
	if err != nil {
		return err
	}
	inStore := map[string]bool{}
	for _, p := range open {
		inStore[p.ID] = true
	}
	// Running workflows that are no process (the notifier) or whose process
	// the projection does not hold yet get stuck too.
	running, err := runningWorkflows(ctx, tc)
	if err != nil {
		return err
	}
	ids := append(slices.Clone(running), slices.Collect(maps.Keys(inStore))...)
	slices.Sort(ids)
	ids = slices.Compact(ids)

	problems := 0
	report := func(format string, args ...any) {
		problems++
		fmt.Fprintf(stdout, format+"\n", args...)
	}
	for _, id := range ids {
		desc, err := tc.DescribeWorkflowExecution(ctx, id, "")
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound) && inStore[id]:
			report("%s: open in PostgreSQL, but Temporal has no workflow for it (its history was deleted by retention, or it never started); reconcile leaves it as it is", id)
			continue
		case errors.As(err, &notFound):
			continue // closed and deleted since it was listed
		case err != nil:
			return fmt.Errorf("%s: %w", id, err)
		}
		info := desc.GetWorkflowExecutionInfo()
		if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			if inStore[id] {
				report("%s: open in PostgreSQL, but its workflow %s at %s: `itilflow reconcile` marks it ended", id,
					statusWord(info.GetStatus()), stamp(info.GetCloseTime().AsTime()))
			}
			continue
		}
		tr, err := workflowhealth.Inspect(ctx, tc.WorkflowService(), *conn.namespace, desc, int32(*minAttempts))
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		if t := tr.Task; t != nil {
			report("%s: stuck: its workflow task keeps failing (attempt %d, since %s): %s\n    %s", id, t.Attempt, stamp(t.Since),
				taskFailure(t), taskAdvice(t.Cause))
		}
		for _, a := range tr.Activities {
			attempts := fmt.Sprintf("attempt %d", a.Attempt)
			if a.MaximumAttempts > 0 {
				attempts += fmt.Sprintf(" of %d", a.MaximumAttempts)
			}
			if !a.NextAttempt.IsZero() {
				attempts += ", next at " + stamp(a.NextAttempt)
			}
			report("%s: activity %s (id %s) keeps failing: %s; last failure: %s", id, a.Type, a.ID, attempts, oneLine(a.LastFailure))
		}
	}
	fmt.Fprintf(stdout, "checked %d open process(es) and %d running workflow(s): %d problem(s)\n", len(open), len(running), problems)
	if problems > 0 {
		return fmt.Errorf("%d problem(s) found (see above)", problems)
	}
	return nil
}

// runningWorkflows lists the ids of the running workflows of itilflow's task queue.
func runningWorkflows(ctx context.Context, tc client.Client) ([]string, error) {
	req := &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TaskQueue = %q AND ExecutionStatus = 'Running'", workflows.TaskQueue)}
	var ids []string
	for {
		resp, err := tc.ListWorkflow(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("list running workflows: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
		if len(resp.GetNextPageToken()) == 0 {
			return ids, nil
		}
		req.NextPageToken = resp.GetNextPageToken()
	}
}

// taskFailure says what the history recorded of the failing task.
func taskFailure(t *workflowhealth.TaskTrouble) string {
	if t.Cause == enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED && t.Message == "" {
		return "no failure recorded: the task times out (no worker answers for it in time)"
	}
	return t.Cause.String() + ": " + oneLine(t.Message)
}

// taskAdvice says what to do about a workflow task that keeps failing.
func taskAdvice(cause enumspb.WorkflowTaskFailedCause) string {
	switch cause {
	case enumspb.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR:
		return "the code no longer replays this history: deploy code that does (a GetVersion patch, see CONTRIBUTING.md), or reset the workflow to before the change"
	case enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE:
		return "the workflow code failed (a panic, or a workflow type the workers do not register): fix it and deploy; the task is retried by itself"
	}
	return "the task is retried by itself once what failed it is fixed"
}

// statusWord is a closed workflow's status in words: "terminated", "timed out".
func statusWord(s enumspb.WorkflowExecutionStatus) string {
	var b strings.Builder
	for i, r := range s.String() { // "TimedOut"
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// oneLine is the first line of a failure message.
func oneLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
