// Package workflowhealth finds the workflows that cannot make progress.
//
// The worker runs with the SDK's BlockWorkflow panic policy: a workflow whose
// code panics, or whose code no longer replays its history (non-determinism),
// is not failed — failing it would lose the process — but its workflow task is
// retried until the code is fixed. The SDK reports such a task only in a log
// line and an unlabelled counter. The Monitor turns both into a list of the
// workflows that keep failing, with the last error, for /healthz; Inspect asks
// Temporal what holds one workflow back, for `itilflow doctor`.
//
// Why the log and not an interceptor: a workflow inbound interceptor sees a
// panic in workflow code, but non-determinism is detected by the SDK after the
// workflow code has run (matching the commands it produced against the
// history), where no interceptor is called. The SDK logs both, with the
// workflow's id, in the same message; its metrics carry the workflow type and
// the reason but, by design, no workflow id.
package workflowhealth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// Causes of a failed workflow task, as the Monitor tells them apart.
const (
	// CauseNonDeterminism: the code no longer makes the decisions its history
	// recorded. A deploy changed workflow code without a GetVersion patch.
	CauseNonDeterminism = "non-determinism"
	// CausePanic: the workflow code panicked.
	CausePanic = "panic"
	// CauseOther: anything else the SDK fails a workflow task for, such as a
	// workflow type this worker does not register.
	CauseOther = "failure"
)

// Failure is a workflow whose workflow task failed on this worker and that has
// not been seen to recover.
type Failure struct {
	WorkflowID   string `json:"id"`
	RunID        string `json:"run_id"`
	WorkflowType string `json:"workflow_type"`
	Cause        string `json:"cause"`
	// Attempt is the failing task's attempt: the SDK's when it last failed
	// here, or Temporal's when a recheck found a later one.
	Attempt int32 `json:"attempt"`
	// Failures counts the failed attempts this worker ran; other replicas run
	// the others.
	Failures    int       `json:"failures"`
	FirstFailed time.Time `json:"first_failed_at"`
	LastFailed  time.Time `json:"last_failed_at"`
	// LastError is the first line of the last error, without the stack.
	LastError string `json:"last_error"`

	checked time.Time // when a recheck last asked Temporal
}

// TaskFailures is the SDK's own count of failed workflow tasks for a workflow
// type and a reason (its failure_reason: NonDeterminismError, WorkflowError…)
// since this process started.
type TaskFailures struct {
	WorkflowType string `json:"workflow_type"`
	Reason       string `json:"reason"`
	Count        int64  `json:"count"`
}

// Report is what the Monitor knows.
type Report struct {
	// Failing lists the workflows whose task keeps failing, the latest failure
	// first, at most the limit asked for; FailingTotal counts them all.
	Failing      []Failure      `json:"failing"`
	FailingTotal int            `json:"failing_total"`
	TaskFailures []TaskFailures `json:"task_failures"`
}

// Monitor collects the workflow task failures the SDK reports through the
// logger and the metrics handler it returns. Give both to the client the
// worker uses (client.Options.Logger and MetricsHandler). Safe for concurrent
// use.
type Monitor struct {
	// Now is the clock; tests replace it.
	Now func() time.Time

	mu      sync.Mutex
	failing map[string]*Failure // by workflow id
	counts  map[taskKey]int64
}

type taskKey struct{ workflowType, reason string }

// New returns a Monitor that has seen no failure.
func New() *Monitor {
	return &Monitor{Now: time.Now, failing: map[string]*Failure{}, counts: map[taskKey]int64{}}
}

// Report returns the failing workflows (at most limit) and the SDK's counts.
func (m *Monitor) Report(limit int) Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := Report{FailingTotal: len(m.failing), Failing: []Failure{}, TaskFailures: []TaskFailures{}}
	for _, f := range m.failing {
		r.Failing = append(r.Failing, *f)
	}
	slices.SortFunc(r.Failing, func(a, b Failure) int {
		if c := b.LastFailed.Compare(a.LastFailed); c != 0 {
			return c
		}
		return strings.Compare(a.WorkflowID, b.WorkflowID)
	})
	if len(r.Failing) > limit {
		r.Failing = r.Failing[:limit]
	}
	for k, n := range m.counts {
		r.TaskFailures = append(r.TaskFailures, TaskFailures{WorkflowType: k.workflowType, Reason: k.reason, Count: n})
	}
	slices.SortFunc(r.TaskFailures, func(a, b TaskFailures) int {
		if c := strings.Compare(a.WorkflowType, b.WorkflowType); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return r
}

// taskFailedMessage is what the SDK logs, with the workflow's id, type, run,
// the task's attempt and the error, each time a workflow task fails
// (go.temporal.io/sdk internal/internal_task_pollers.go). The tests of
// cmd/itilflow run a real worker into a panic and into non-determinism, so an
// SDK that words it differently fails them.
const taskFailedMessage = "Failed to process workflow task."

// Keys of the SDK's log line.
const (
	keyWorkflowID   = "WorkflowID"
	keyRunID        = "RunID"
	keyWorkflowType = "WorkflowType"
	keyAttempt      = "Attempt"
	keyError        = "Error"
)

// observe records a workflow task failure if msg is the SDK's report of one.
func (m *Monitor) observe(msg string, keyvals []any) {
	if msg != taskFailedMessage {
		return
	}
	var f Failure
	var err error
	for i := 0; i+1 < len(keyvals); i += 2 {
		k, _ := keyvals[i].(string)
		switch v := keyvals[i+1]; k {
		case keyWorkflowID:
			f.WorkflowID, _ = v.(string)
		case keyRunID:
			f.RunID, _ = v.(string)
		case keyWorkflowType:
			f.WorkflowType, _ = v.(string)
		case keyAttempt:
			f.Attempt, _ = v.(int32)
		case keyError:
			err, _ = v.(error)
		}
	}
	if f.WorkflowID == "" {
		return
	}
	f.Cause, f.LastError = classify(err), firstLine(err)
	now := m.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.failing[f.WorkflowID]
	f.FirstFailed, f.Failures = now, 1
	if old != nil && old.RunID == f.RunID {
		f.FirstFailed, f.Failures = old.FirstFailed, old.Failures+1
	}
	f.LastFailed = now
	m.failing[f.WorkflowID] = &f
}

// classify tells a failed task's cause from the SDK's error: every
// non-determinism error the SDK raises is marked TMPRL1100, and a panic in
// workflow code carries its stack.
func classify(err error) string {
	if err == nil {
		return CauseOther
	}
	var stack interface{ StackTrace() string }
	switch {
	case strings.Contains(err.Error(), "[TMPRL1100]"):
		return CauseNonDeterminism
	case errors.As(err, &stack):
		return CausePanic
	}
	return CauseOther
}

// maxErrorText bounds LastError: /healthz shows it to anyone who asks.
const maxErrorText = 500

// firstLine is the error's first line, at most maxErrorText bytes.
func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) <= maxErrorText {
		return s
	}
	s = s[:maxErrorText]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// countTaskFailure adds the SDK's count of failed workflow tasks.
func (m *Monitor) countTaskFailure(k taskKey, n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[k] += n
}

// Describer is what a recheck asks Temporal: client.Client.
type Describer interface {
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
}

const (
	// settle is how long after a failure a recheck leaves the workflow alone:
	// the SDK logs the failure before Temporal records it.
	settle = 30 * time.Second
	// perRecheck bounds the workflows one recheck asks about, so a deploy
	// that breaks thousands of workflows does not flood Temporal.
	perRecheck = 50
	// describeTimeout bounds each question.
	describeTimeout = 5 * time.Second
)

// Recheck asks Temporal about the failing workflows that have not failed here
// for a while, those asked about longest ago first, and forgets those that
// recovered: their task no longer fails (new code replays them, or they were
// reset), or they closed (terminated, say), or their history is gone. No
// failure tells a worker that the next attempt succeeded, and the next attempt
// may run on another replica, so only Temporal knows. A workflow Temporal
// cannot be asked about now stays listed.
func (m *Monitor) Recheck(ctx context.Context, d Describer) {
	now := m.Now()
	m.mu.Lock()
	var due []Failure
	for _, f := range m.failing {
		if now.Sub(f.LastFailed) >= settle {
			due = append(due, *f)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(due, func(a, b Failure) int { return a.checked.Compare(b.checked) })
	if len(due) > perRecheck {
		due = due[:perRecheck]
	}
	for _, f := range due {
		dctx, cancel := context.WithTimeout(ctx, describeTimeout)
		desc, err := d.DescribeWorkflowExecution(dctx, f.WorkflowID, f.RunID)
		cancel()
		var notFound *serviceerror.NotFound
		recovered := errors.As(err, &notFound) || err == nil && !TaskFailing(desc)
		m.mu.Lock()
		// Unless it failed again meanwhile, which is news newer than Temporal's.
		if cur := m.failing[f.WorkflowID]; cur != nil && cur.LastFailed.Equal(f.LastFailed) {
			switch {
			case recovered:
				delete(m.failing, f.WorkflowID)
			case err == nil:
				cur.checked = now
				cur.Attempt = max(cur.Attempt, desc.GetPendingWorkflowTask().GetAttempt())
			default:
				cur.checked = now
			}
		}
		m.mu.Unlock()
	}
}

// Watch rechecks every interval until ctx ends.
func (m *Monitor) Watch(ctx context.Context, d Describer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Recheck(ctx, d)
		}
	}
}

// TaskFailing reports whether a described workflow is running with a workflow
// task that has failed before: a task past its first attempt is a retry, and
// a workflow that makes progress has none (or a fresh one).
func TaskFailing(desc *workflowservice.DescribeWorkflowExecutionResponse) bool {
	return desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING &&
		desc.GetPendingWorkflowTask().GetAttempt() > 1
}

// Logger returns next, watching what the SDK logs through it for failed
// workflow tasks.
func (m *Monitor) Logger(next log.Logger) log.Logger { return watchLogger{m: m, next: next} }

type watchLogger struct {
	m    *Monitor
	next log.Logger
}

func (l watchLogger) Debug(msg string, keyvals ...any) { l.next.Debug(msg, keyvals...) }
func (l watchLogger) Info(msg string, keyvals ...any)  { l.next.Info(msg, keyvals...) }

func (l watchLogger) Warn(msg string, keyvals ...any) {
	l.m.observe(msg, keyvals)
	l.next.Warn(msg, keyvals...)
}

func (l watchLogger) Error(msg string, keyvals ...any) {
	l.m.observe(msg, keyvals)
	l.next.Error(msg, keyvals...)
}

// With keeps watching what the SDK logs with a logger that adds keyvals to
// every line (it makes one per worker).
func (l watchLogger) With(keyvals ...any) log.Logger {
	return watchLogger{m: l.m, next: log.With(l.next, keyvals...)}
}

// taskFailedMetric is the SDK's counter of failed workflow tasks, tagged with
// the workflow type and the failure reason.
const (
	taskFailedMetric = "temporal_workflow_task_execution_failed"
	tagWorkflowType  = "workflow_type"
	tagReason        = "failure_reason"
)

// MetricsHandler returns a handler that passes every metric to next and counts
// failed workflow tasks by workflow type and reason for Report. next is
// client.MetricsNopHandler until a metrics backend (Prometheus) is wired in.
func (m *Monitor) MetricsHandler(next client.MetricsHandler) client.MetricsHandler {
	return metricsHandler{m: m, next: next}
}

type metricsHandler struct {
	m    *Monitor
	next client.MetricsHandler
	// the tags the counter of failed tasks is counted by
	workflowType, reason string
}

func (h metricsHandler) WithTags(tags map[string]string) client.MetricsHandler {
	out := metricsHandler{m: h.m, next: h.next.WithTags(tags), workflowType: h.workflowType, reason: h.reason}
	if v, ok := tags[tagWorkflowType]; ok {
		out.workflowType = v
	}
	if v, ok := tags[tagReason]; ok {
		out.reason = v
	}
	return out
}

func (h metricsHandler) Counter(name string) client.MetricsCounter {
	c := h.next.Counter(name)
	if name != taskFailedMetric {
		return c
	}
	return counter{m: h.m, key: taskKey{workflowType: h.workflowType, reason: h.reason}, next: c}
}

func (h metricsHandler) Gauge(name string) client.MetricsGauge { return h.next.Gauge(name) }
func (h metricsHandler) Timer(name string) client.MetricsTimer { return h.next.Timer(name) }

type counter struct {
	m    *Monitor
	key  taskKey
	next client.MetricsCounter
}

func (c counter) Inc(n int64) {
	c.m.countTaskFailure(c.key, n)
	c.next.Inc(n)
}
