package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
)

// defaultWorkerStopTimeout is longer than any activity's attempt may run: a
// webhook step's timeout is at most 5 minutes. A stop that cut an activity
// short would spend one of its attempts, and a webhook's receiver may already
// have acted on the cancelled call.
const defaultWorkerStopTimeout = 6 * time.Minute

// longestActivityAttempt is the longest one activity attempt may run (a
// webhook step's largest timeout); a shorter stop timeout is allowed, with a
// warning.
const longestActivityAttempt = 5 * time.Minute

// runningActivities knows the activities this worker runs, so that a stopping
// worker can say what it waits for. It is a worker interceptor.
type runningActivities struct {
	interceptor.WorkerInterceptorBase
	mu      sync.Mutex
	next    int
	running map[int]runningActivity
}

type runningActivity struct {
	activityType, workflowID string
	attempt                  int32
	started                  time.Time
}

func newRunningActivities() *runningActivities {
	return &runningActivities{running: map[int]runningActivity{}}
}

func (r *runningActivities) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityWatch{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, r: r}
}

type activityWatch struct {
	interceptor.ActivityInboundInterceptorBase
	r *runningActivities
}

func (a *activityWatch) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	a.r.mu.Lock()
	id := a.r.next
	a.r.next++
	a.r.running[id] = runningActivity{activityType: info.ActivityType.Name, workflowID: info.WorkflowExecution.ID,
		attempt: info.Attempt, started: info.StartedTime}
	a.r.mu.Unlock()
	defer func() {
		a.r.mu.Lock()
		delete(a.r.running, id)
		a.r.mu.Unlock()
	}()
	return a.Next.ExecuteActivity(ctx, in)
}

// describe lists the running activities for a log line, longest running first:
// "CallWebhook for incident-000012 (attempt 1, running 2.1s)".
func (r *runningActivities) describe(now time.Time) (n int, list string) {
	r.mu.Lock()
	all := make([]runningActivity, 0, len(r.running))
	for _, a := range r.running {
		all = append(all, a)
	}
	r.mu.Unlock()
	slices.SortFunc(all, func(a, b runningActivity) int { return a.started.Compare(b.started) })
	parts := make([]string, len(all))
	for i, a := range all {
		parts[i] = fmt.Sprintf("%s for %s (attempt %d, running %s)", a.activityType, a.workflowID, a.attempt, now.Sub(a.started).Round(100*time.Millisecond))
	}
	return len(all), strings.Join(parts, "; ")
}

// drainReportEvery is how often a stopping worker says what it still waits for.
const drainReportEvery = 15 * time.Second

// stopWorker stops the worker: it polls for no more tasks and lets the
// activities in flight finish, for up to the worker's stop timeout, saying
// what it waits for. Activities still running then are cancelled by the SDK;
// each spends an attempt and is retried by the next worker.
func stopWorker(w worker.Worker, running *runningActivities, timeout time.Duration, log *slog.Logger) {
	began := time.Now()
	n, list := running.describe(began)
	if n == 0 {
		log.Info("stopping the worker; no activity in flight")
	} else {
		log.Info("stopping the worker; waiting for the activities in flight to finish", "count", n, "timeout", timeout, "activities", list)
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		w.Stop()
	}()
	tick := time.NewTicker(drainReportEvery)
	defer tick.Stop()
	for {
		select {
		case <-stopped:
			if n, list := running.describe(time.Now()); n > 0 {
				log.Warn("worker stop timeout reached: activities cancelled; each spends an attempt and is retried",
					"count", n, "timeout", timeout, "activities", list)
			}
			log.Info("worker stopped", "after", time.Since(began).Round(time.Millisecond))
			return
		case now := <-tick.C:
			if n, list := running.describe(now); n > 0 {
				log.Info("still waiting for activities in flight", "count", n, "left", timeout-now.Sub(began).Round(time.Second), "activities", list)
			}
		}
	}
}

// requestsInFlight counts the HTTP requests being answered, so a stopping
// server can say how many it waits for.
type requestsInFlight struct {
	next http.Handler
	n    atomic.Int64
}

func (h *requestsInFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.n.Add(1)
	defer h.n.Add(-1)
	h.next.ServeHTTP(w, r)
}
