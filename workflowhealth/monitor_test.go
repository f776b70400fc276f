package workflowhealth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/itilflow/itilflow/workflowhealth"
)

// recorder is an SDK logger that keeps what it is given.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) add(level, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, level+" "+msg)
}
func (r *recorder) Debug(msg string, _ ...any) { r.add("debug", msg) }
func (r *recorder) Info(msg string, _ ...any)  { r.add("info", msg) }
func (r *recorder) Warn(msg string, _ ...any)  { r.add("warn", msg) }
func (r *recorder) Error(msg string, _ ...any) { r.add("error", msg) }

// panicError is shaped like the SDK's error for a panic in workflow code.
type panicError struct{ msg string }

func (e panicError) Error() string      { return e.msg }
func (e panicError) StackTrace() string { return "goroutine 1 [running]:" }

// taskFailed logs what the SDK logs when a workflow task fails.
func taskFailed(l log.Logger, id, run string, attempt int32, err error) {
	l.Warn("Failed to process workflow task.", "WorkflowType", "itilflow.Process", "WorkflowID", id, "RunID", run, "Attempt", attempt, "Error", err)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newMonitor() (*workflowhealth.Monitor, *clock) {
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	m := workflowhealth.New()
	m.Now = c.now
	return m, c
}

func TestMonitorReadsTheSDKsLog(t *testing.T) {
	m, c := newMonitor()
	rec := &recorder{}
	// The SDK logs through a logger per worker, made with With.
	l := log.With(m.Logger(rec), "TaskQueue", "itilflow")

	l.Info("Started Worker")
	l.Warn("Activity error.", "WorkflowID", "incident-000009", "Error", errors.New("timeout"))
	taskFailed(l, "incident-000001", "r1", 1, errors.New("[TMPRL1100] nondeterministic workflow: history event is ActivityTaskScheduled, replay command is StartTimer"))
	c.t = c.t.Add(10 * time.Second)
	taskFailed(l, "incident-000001", "r1", 2, errors.New("[TMPRL1100] nondeterministic workflow: history event is ActivityTaskScheduled, replay command is StartTimer"))
	taskFailed(l, "incident-000002", "r2", 1, panicError{"runtime error: index out of range [3] with length 3\nmore"})
	taskFailed(l, "other-1", "r3", 1, errors.New("unable to find workflow type: itilflow.Gone. Supported types: [itilflow.Process]"))

	if len(rec.lines) != 6 {
		t.Fatalf("not every line was passed on: %v", rec.lines)
	}
	r := m.Report(10)
	if r.FailingTotal != 3 || len(r.Failing) != 3 {
		t.Fatalf("report %+v", r)
	}
	byID := map[string]workflowhealth.Failure{}
	for _, f := range r.Failing {
		byID[f.WorkflowID] = f
	}
	nd := byID["incident-000001"]
	if nd.Cause != workflowhealth.CauseNonDeterminism || nd.Attempt != 2 || nd.Failures != 2 || nd.WorkflowType != "itilflow.Process" ||
		!nd.FirstFailed.Equal(c.t.Add(-10*time.Second)) || !nd.LastFailed.Equal(c.t) || !strings.HasPrefix(nd.LastError, "[TMPRL1100]") {
		t.Errorf("non-determinism: %+v", nd)
	}
	if p := byID["incident-000002"]; p.Cause != workflowhealth.CausePanic || p.LastError != "runtime error: index out of range [3] with length 3" {
		t.Errorf("panic: %+v", p)
	}
	if o := byID["other-1"]; o.Cause != workflowhealth.CauseOther {
		t.Errorf("other: %+v", o)
	}
	if _, ok := byID["incident-000009"]; ok {
		t.Error("an activity error was taken for a workflow task failure")
	}

	t.Run("LimitKeepsTheLatest", func(t *testing.T) {
		r := m.Report(1)
		if r.FailingTotal != 3 || len(r.Failing) != 1 || r.Failing[0].WorkflowID != "incident-000001" {
			t.Fatalf("report %+v", r)
		}
	})
	t.Run("LongErrorsAreCut", func(t *testing.T) {
		taskFailed(l, "long", "r4", 1, errors.New(strings.Repeat("é", 400)))
		for _, f := range m.Report(10).Failing {
			if f.WorkflowID == "long" && (len(f.LastError) > 510 || !strings.HasSuffix(f.LastError, "…")) {
				t.Fatalf("last error of %d bytes: %q", len(f.LastError), f.LastError)
			}
		}
	})
	t.Run("ANewRunStartsAgain", func(t *testing.T) {
		taskFailed(l, "incident-000001", "r1-reset", 1, panicError{"boom"})
		for _, f := range m.Report(10).Failing {
			if f.WorkflowID == "incident-000001" && (f.Failures != 1 || f.RunID != "r1-reset" || f.Cause != workflowhealth.CausePanic) {
				t.Fatalf("after a reset: %+v", f)
			}
		}
	})
}

// countingHandler is a metrics backend that counts what reaches it.
type countingHandler struct {
	tags map[string]string
	seen *[]string
}

func (h countingHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := map[string]string{}
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return countingHandler{tags: merged, seen: h.seen}
}

func (h countingHandler) Counter(name string) client.MetricsCounter {
	return counterFunc(func(int64) { *h.seen = append(*h.seen, name+" "+h.tags["workflow_type"]) })
}
func (h countingHandler) Gauge(name string) client.MetricsGauge {
	return client.MetricsNopHandler.Gauge(name)
}
func (h countingHandler) Timer(name string) client.MetricsTimer {
	return client.MetricsNopHandler.Timer(name)
}

type counterFunc func(int64)

func (f counterFunc) Inc(n int64) { f(n) }

func TestMetricsHandlerCountsFailedTasksAndPassesAllOn(t *testing.T) {
	m, _ := newMonitor()
	var seen []string
	h := m.MetricsHandler(countingHandler{seen: &seen}).WithTags(map[string]string{"namespace": "default", "task_queue": "itilflow"})
	// As the SDK emits them (internal_task_pollers.go, internal_workflow.go).
	process := h.WithTags(map[string]string{"workflow_type": "itilflow.Process"})
	process.WithTags(map[string]string{"failure_reason": "NonDeterminismError"}).Counter("temporal_workflow_task_execution_failed").Inc(1)
	process.WithTags(map[string]string{"failure_reason": "NonDeterminismError"}).Counter("temporal_workflow_task_execution_failed").Inc(1)
	process.WithTags(map[string]string{"failure_reason": "WorkflowError"}).Counter("temporal_workflow_task_execution_failed").Inc(1)
	process.Counter("temporal_workflow_completed").Inc(1)
	h.WithTags(map[string]string{"workflow_type": "itilflow.Notifier", "failure_reason": "WorkflowError"}).Counter("temporal_workflow_task_execution_failed").Inc(1)

	got := m.Report(10).TaskFailures
	want := []workflowhealth.TaskFailures{
		{WorkflowType: "itilflow.Notifier", Reason: "WorkflowError", Count: 1},
		{WorkflowType: "itilflow.Process", Reason: "NonDeterminismError", Count: 2},
		{WorkflowType: "itilflow.Process", Reason: "WorkflowError", Count: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("counts %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("counts %+v, want %+v", got, want)
		}
	}
	if len(seen) != 5 || seen[3] != "temporal_workflow_completed itilflow.Process" {
		t.Fatalf("the backend saw %v", seen)
	}
}

// describer answers DescribeWorkflowExecution from a table; an id missing from
// it is a Temporal that does not answer.
type describer struct {
	answers map[string]*workflowservice.DescribeWorkflowExecutionResponse
	asked   []string
}

func (d *describer) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	d.asked = append(d.asked, id)
	if id == "deleted" {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	a, ok := d.answers[id]
	if !ok {
		return nil, serviceerror.NewUnavailable("frontend down")
	}
	return a, nil
}

func described(status enumspb.WorkflowExecutionStatus, taskAttempt int32) *workflowservice.DescribeWorkflowExecutionResponse {
	d := &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: status}}
	if taskAttempt > 0 {
		d.PendingWorkflowTask = &workflowpb.PendingWorkflowTaskInfo{Attempt: taskAttempt}
	}
	return d
}

func TestRecheckForgetsRecoveredWorkflows(t *testing.T) {
	m, c := newMonitor()
	l := m.Logger(&recorder{})
	running := enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	d := &describer{answers: map[string]*workflowservice.DescribeWorkflowExecutionResponse{
		"stuck":      described(running, 7),
		"fixed":      described(running, 0),
		"fresh-task": described(running, 1),
		"terminated": described(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, 0),
	}}
	for _, id := range []string{"stuck", "fixed", "fresh-task", "terminated", "deleted", "unreachable"} {
		taskFailed(l, id, "r", 2, panicError{"boom"})
	}
	c.t = c.t.Add(time.Second)
	taskFailed(l, "just-failed", "r", 1, panicError{"boom"})

	c.t = c.t.Add(29 * time.Second)
	m.Recheck(context.Background(), d)
	r := m.Report(10)
	var ids []string
	for _, f := range r.Failing {
		ids = append(ids, f.WorkflowID)
		if f.WorkflowID == "stuck" && f.Attempt != 7 {
			t.Errorf("Temporal's attempt not taken: %+v", f)
		}
	}
	if got := strings.Join(ids, " "); got != "just-failed stuck unreachable" {
		t.Fatalf("failing after a recheck: %s", got)
	}
	for _, id := range d.asked {
		if id == "just-failed" {
			t.Fatal("a failure younger than Temporal's record of it was rechecked")
		}
	}

	t.Run("AFailureDuringTheRecheckWins", func(t *testing.T) {
		d := &racingDescriber{m: m, l: l, c: c}
		c.t = c.t.Add(time.Minute)
		m.Recheck(context.Background(), d)
		for _, f := range m.Report(10).Failing {
			if f.WorkflowID == "just-failed" {
				return
			}
		}
		t.Fatal("a workflow that failed again while Temporal was asked was forgotten")
	})
}

// racingDescriber logs a new failure of the workflow it is asked about, then
// says it recovered.
type racingDescriber struct {
	m *workflowhealth.Monitor
	l log.Logger
	c *clock
}

func (d *racingDescriber) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if id == "just-failed" {
		d.c.t = d.c.t.Add(time.Second)
		taskFailed(d.l, id, "r", 3, panicError{"boom"})
	}
	return described(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, 0), nil
}
